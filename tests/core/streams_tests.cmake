# Unit tests of the stream layer; included by tests/core/CMakeLists.txt.
tquic_test(streams_tests LABEL unit SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/stream_buffers_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/flow_control_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/stream_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/stream_map_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/stream_scheduler_test.cc
  DEPS tquic_streams)
