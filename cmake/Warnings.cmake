# Warnings are errors for our own code; third-party headers come in as SYSTEM includes.
add_compile_options(-Wall -Wextra -Werror -Wno-missing-field-initializers)

# GCC 12 reports -Wrestrict false positives inside libstdc++ for `"literal" + std::string&&` at -O2/-O3
# (GCC bug 105651, fixed in GCC 13). Debug and sanitizer builds keep the warning on.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  add_compile_options($<$<NOT:$<CONFIG:Debug>>:-Wno-restrict>)
endif()

if(PIPEGUARD_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
