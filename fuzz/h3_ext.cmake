# The HTTP/3 extension parsers: capsules (RFC 9297 §3.2) and URI templates (RFC 9298 §2).
tquic_fuzz(h3_capsules SOURCES ${CMAKE_CURRENT_LIST_DIR}/h3_capsules.cc DEPS tquic_h3)
tquic_fuzz(uri_template SOURCES ${CMAKE_CURRENT_LIST_DIR}/uri_template.cc DEPS tquic_h3)
