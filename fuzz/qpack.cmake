tquic_fuzz(qpack_decoder SOURCES ${CMAKE_CURRENT_LIST_DIR}/qpack_decoder.cc DEPS tquic_qpack)
