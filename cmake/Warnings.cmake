# Warnings are errors for our own code; third-party headers come in as SYSTEM includes.
add_compile_options(-Wall -Wextra -Werror -Wno-missing-field-initializers)

if(PIPEGUARD_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
