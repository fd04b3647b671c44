# The ngtcp2 transport-feature matrix (docs/interop.md "ngtcp2 matrix"): `tquic serve` against
# Debian's ngtcp2 0.12 gtlsclient and `tquic get` against its gtlsserver, one ctest per case and
# direction, driven by interop/run_ngtcp2_case.sh. Needs only the ngtcp2-client/ngtcp2-server
# packages (scripts/install-deps.sh), not Go.
find_program(TQUIC_GTLSSERVER gtlsserver)
find_program(TQUIC_GTLSCLIENT gtlsclient)
if(NOT TQUIC_GTLSSERVER OR NOT TQUIC_GTLSCLIENT)
  tquic_interop_missing("ngtcp2-client/ngtcp2-server (gtlsclient, gtlsserver) are not installed")
  return()
endif()

# "case:direction"; tquic-server = gtlsclient against `tquic serve`, tquic-client = `tquic get`
# against gtlsserver.
set(_ng_cases
  keyupdate:tquic-server migration:tquic-server rebind:tquic-server resumption:tquic-server
  zerortt:tquic-server retry:tquic-server loss:tquic-server
  retry:tquic-client loss:tquic-client preferredaddr:tquic-client)
# Known failures (reasons in docs/interop.md), registered only with
# -DTQUIC_INTEROP_KNOWN_FAILURES=ON.
# (Empty since 0-RTT and the client's move to preferred_address landed.)
set(_ng_known_failures)

foreach(_entry IN LISTS _ng_cases)
  if(_entry IN_LIST _ng_known_failures AND NOT TQUIC_INTEROP_KNOWN_FAILURES)
    continue()
  endif()
  string(REPLACE ":" ";" _parts ${_entry})
  list(GET _parts 0 _case)
  list(GET _parts 1 _dir)
  string(REPLACE "-" "_" _d ${_dir})
  set(_name interop_ngtcp2_${_case}_${_d})
  add_test(NAME ${_name}
    COMMAND ${PROJECT_SOURCE_DIR}/interop/run_ngtcp2_case.sh --case ${_case} --direction ${_dir}
      --tquic $<TARGET_FILE:tquic> --work ${CMAKE_CURRENT_BINARY_DIR}/work/ngtcp2_${_case}_${_d})
  set_tests_properties(${_name} PROPERTIES LABELS interop TIMEOUT 180
    PASS_REGULAR_EXPRESSION "PASS: ${_case}" FAIL_REGULAR_EXPRESSION "FAIL:")
endforeach()
