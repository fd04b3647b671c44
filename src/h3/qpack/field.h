// A decoded or to-be-encoded field line (RFC 9204 §1.1: "field line" = name-value pair).
#pragma once

#include <string>

namespace h3::qpack {

struct Field {
  std::string name;
  std::string value;
  // Ask the encoder to keep this field out of the dynamic table and to set the never-index
  // ('N') bit so intermediaries keep it literal too (RFC 9204 §7.1.3). The encoder also does
  // this on its own for authorization and cookie fields.
  bool sensitive = false;
  bool operator==(const Field& o) const { return name == o.name && value == o.value; }
};

}  // namespace h3::qpack
