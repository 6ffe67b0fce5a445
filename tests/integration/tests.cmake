# Integration tests: each starts the real helm binary on loopback ports.
find_package(Python3 COMPONENTS Interpreter REQUIRED)
file(GLOB HELM_PY_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/integration/test_*.py)
foreach(test_file ${HELM_PY_TESTS})
  get_filename_component(test_name ${test_file} NAME_WE)
  add_test(NAME integration.${test_name}
           COMMAND ${Python3_EXECUTABLE} ${test_file} --helm $<TARGET_FILE:helm>)
  set_tests_properties(integration.${test_name} PROPERTIES TIMEOUT 300)
endforeach()

# SDK conformance: the official openai SDK (pinned in tests/sdk/package-lock.json,
# installed by scripts/setup.sh with `npm ci`) against the real helm binary,
# embedded and remote. Registered whenever node is found: without
# tests/sdk/node_modules it fails (cannot find package 'openai').
find_program(NODE node)
if(NODE)
  add_test(NAME sdk.openai
           COMMAND ${NODE} --test
                   openai.embedded.test.mjs openai.remote.test.mjs
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/sdk)
  set_tests_properties(sdk.openai PROPERTIES
                       ENVIRONMENT HELM_BIN=$<TARGET_FILE:helm>
                       TIMEOUT 300)
endif()

# SDK conformance of the other client doors: @anthropic-ai/sdk (/v1/messages),
# @google/genai (/v1beta/models/...) and the openai SDK's Responses API
# (/v1/responses), each against a proxy with an openai, an anthropic and a
# gemini provider on the scripted test upstream.
if(NODE)
  add_test(NAME sdk.doors
           COMMAND ${NODE} --test
                   anthropic.test.mjs genai.test.mjs responses.test.mjs
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/sdk)
  set_tests_properties(sdk.doors PROPERTIES
                       ENVIRONMENT HELM_BIN=$<TARGET_FILE:helm>
                       TIMEOUT 300)
endif()

# The TypeScript SDK (sdk/ts): headers, tail and offline verification, against
# the real helm binary and against sdk/python/helm_verify.py on exports signed
# by helm_receipt_tests. Runs the compiled dist/ (scripts/setup.sh: npm ci and
# npm run build in sdk/ts); without it, it fails (cannot find dist/index.js).
if(NODE)
  add_test(NAME sdk.ts
           COMMAND ${NODE} --test test/
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/sdk/ts)
  set_tests_properties(sdk.ts PROPERTIES
                       ENVIRONMENT "HELM_BIN=$<TARGET_FILE:helm>;HELM_BUILD_DIR=${CMAKE_BINARY_DIR}"
                       TIMEOUT 300)
endif()

# examples/helm.toml is the config reference's complete example: it must
# always load. Dummy keys make every provider load, so every lane member is
# validated (without keys the providers are skipped and only the mock is left;
# test_routing.py checks that case).
add_test(NAME config.example
         COMMAND $<TARGET_FILE:helm> config check ${CMAKE_SOURCE_DIR}/examples/helm.toml)
set_tests_properties(config.example PROPERTIES
                     ENVIRONMENT "OPENAI_API_KEY=config-check;ANTHROPIC_API_KEY=config-check;GEMINI_API_KEY=config-check"
                     TIMEOUT 60)
