# Version negotiation tests (RFC 9368, RFC 9369 §4); included by tests/core/CMakeLists.txt.
tquic_test(version_tests LABEL unit SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/version_selection_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/version_negotiation_test.cc
  DEPS tquic_hostile_fixture tquic_core tquic_test_pair)
