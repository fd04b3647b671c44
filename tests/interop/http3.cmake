# The "http3" interop case (docs/http3-tools.md): `tquic get` / `tquic serve` against quic-go
# 0.29's http3 package, and against Debian's ngtcp2 examples (gtlsserver/gtlsclient) when
# installed. Included from CMakeLists.txt after the quic-go peers are set up (_qg_out,
# _known_failures, TQUIC_INTEROP_KNOWN_FAILURES).
set(_h3_peers quicgo)
find_program(TQUIC_GTLSSERVER gtlsserver)
find_program(TQUIC_GTLSCLIENT gtlsclient)
if(TQUIC_GTLSSERVER AND TQUIC_GTLSCLIENT)
  list(APPEND _h3_peers ngtcp2)
else()
  tquic_interop_missing("ngtcp2-client/ngtcp2-server (gtlsclient, gtlsserver) are not installed")
endif()
# "http3:<peer>:<direction>" entries known to fail (reasons in docs/http3-tools.md).
set(_h3_known_failures)
foreach(_peer IN LISTS _h3_peers)
  foreach(_dir tquic-client tquic-server)
    if("http3:${_peer}:${_dir}" IN_LIST _h3_known_failures AND NOT TQUIC_INTEROP_KNOWN_FAILURES)
      continue()
    endif()
    string(REPLACE "-" "_" _d ${_dir})
    set(_name interop_${_peer}_http3_${_d})
    add_test(NAME ${_name}
      COMMAND ${_interop}/run_h3_case.sh --peer ${_peer} --direction ${_dir}
        --tquic $<TARGET_FILE:tquic> --qg ${_qg_out}
        --work ${CMAKE_CURRENT_BINARY_DIR}/work/http3_${_peer}_${_d})
    set_tests_properties(${_name} PROPERTIES LABELS interop TIMEOUT 120
      PASS_REGULAR_EXPRESSION "PASS: http3" FAIL_REGULAR_EXPRESSION "FAIL:")
  endforeach()
endforeach()
