tquic_fuzz(tquicd_control_line SOURCES ${CMAKE_CURRENT_LIST_DIR}/tquicd_control_line.cc DEPS tquic_tquicd_core)
tquic_fuzz(tquicd_http_request SOURCES ${CMAKE_CURRENT_LIST_DIR}/tquicd_http_request.cc DEPS tquic_tquicd_core)
tquic_fuzz(tquicd_config_set SOURCES ${CMAKE_CURRENT_LIST_DIR}/tquicd_config_set.cc DEPS tquic_tquicd_core)
