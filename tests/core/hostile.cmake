# Hostile-peer regression tests of the connection core; included by tests/core/CMakeLists.txt.
tquic_test(hostile_tests LABEL unit SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/hostile_frames_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/hostile_attacks_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/hostile_handshake_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/hostile_streams_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/hostile_closing_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/hostile_version_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/hostile_ecn_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/hostile_multipath_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/hostile_migration_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/hostile_extensions_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/hostile_limits_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/hostile_tokens_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/token_test.cc
  DEPS tquic_hostile_fixture tquic_core tquic_test_pair)
# 0-RTT (resumption with early data), on the same fixture.
tquic_test(zerortt_tests LABEL unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/zerortt_test.cc
  DEPS tquic_hostile_fixture tquic_core tquic_test_pair)
