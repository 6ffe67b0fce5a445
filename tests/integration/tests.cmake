# Integration tests: each starts the real helm binary on loopback ports.
find_package(Python3 COMPONENTS Interpreter REQUIRED)
file(GLOB HELM_PY_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/integration/test_*.py)
foreach(test_file ${HELM_PY_TESTS})
  get_filename_component(test_name ${test_file} NAME_WE)
  add_test(NAME integration.${test_name}
           COMMAND ${Python3_EXECUTABLE} ${test_file} --helm $<TARGET_FILE:helm>)
  set_tests_properties(integration.${test_name} PROPERTIES TIMEOUT 300)
endforeach()
