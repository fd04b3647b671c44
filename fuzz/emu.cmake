tquic_fuzz(emu_link_spec SOURCES ${CMAKE_CURRENT_LIST_DIR}/emu_link_spec.cc DEPS tquic_emu_core)
