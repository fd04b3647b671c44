# The stream layer (RFC 9000 §2-4); included by src/core/CMakeLists.txt.
tquic_library(tquic_streams SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/stream_buffers.cc
  ${CMAKE_CURRENT_LIST_DIR}/flow_control.cc
  ${CMAKE_CURRENT_LIST_DIR}/stream.cc
  ${CMAKE_CURRENT_LIST_DIR}/stream_map.cc
  ${CMAKE_CURRENT_LIST_DIR}/stream_scheduler.cc
  DEPS tquic_common)
