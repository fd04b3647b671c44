tquic_fuzz(tquicd_config SOURCES ${CMAKE_CURRENT_LIST_DIR}/tquicd_config.cc DEPS tquic_tquicd_core)
tquic_fuzz(tquicd_reorder SOURCES ${CMAKE_CURRENT_LIST_DIR}/tquicd_reorder.cc DEPS tquic_tquicd_core)
tquic_fuzz(tquicd_classifier SOURCES ${CMAKE_CURRENT_LIST_DIR}/tquicd_classifier.cc DEPS tquic_tquicd_core)
tquic_fuzz(tquicd_quota_state SOURCES ${CMAKE_CURRENT_LIST_DIR}/tquicd_quota_state.cc DEPS tquic_tquicd_core)
