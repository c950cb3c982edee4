# kiln_add_model(<target> MODEL <file> [NAME <name>] [CPU <cpu>]
#                [TARGET cpu|cuda] [GPU <sm>] [DEPENDS <files>...])
#
# Compiles a model with `kiln compile` at build time (again whenever the model,
# a JSON model's weights file, the files listed in DEPENDS -- e.g. an ONNX
# model's external data -- or the compiler change) and defines a static
# library <target> holding the generated C++ with the weights embedded. Link
# it and include "<name>.h" (C++) or "<name>_c.h" (C):
#
#   kiln_add_model(classifier MODEL model.onnx NAME classifier)
#   target_link_libraries(app PRIVATE classifier)
#   // std::unique_ptr<classifier::Model> m;
#   // classifier::Model::createEmbedded(/*threads=*/2, m);
#
# Calling it again with the same <target> adds another model (with another
# NAME) to the same library.
#
# The generated code is always built optimised, whatever the consumer's build
# type: its compile options are ${KILN_MODEL_OPTIMIZATION} (default -O3),
# after the build type's own flags. Set that variable before the call (or
# -DKILN_MODEL_OPTIMIZATION="-O0 -g" on the cmake line) to choose otherwise.
#
# CPU is `kiln compile --cpu`: native (default: the machine that builds),
# x86-64-v4, x86-64-v3 or generic; the generated source is compiled with the
# matching -march (none for generic).
# TARGET cuda builds the model for NVIDIA GPUs instead (`kiln compile
# --target cuda --gpu <GPU>`, GPU defaulting to sm_80): the library holds
# host code with the PTX embedded and needs no CUDA toolkit to build; the
# CUDA driver is loaded when the model is created (docs/cuda.md).
# The name defaults to the model file's stem (its directory's name for files
# called model.*), made a C identifier. Generated files go to
# ${CMAKE_CURRENT_BINARY_DIR}/<target>-kiln/, including <name>.report.json.

# The embedded weights are assembled with .incbin; languages can only be
# enabled at directory scope, which is where this file is included.
enable_language(ASM)

function(kiln_add_model target)
  cmake_parse_arguments(ARG "" "MODEL;NAME;CPU;TARGET;GPU" "DEPENDS" ${ARGN})
  if(NOT ARG_TARGET)
    set(ARG_TARGET cpu)
  endif()
  if(NOT ARG_TARGET MATCHES "^(cpu|cuda)$")
    message(FATAL_ERROR "kiln_add_model(${target}): TARGET must be cpu or cuda (got '${ARG_TARGET}')")
  endif()
  if(NOT ARG_GPU)
    set(ARG_GPU sm_80)
  endif()
  if(NOT ARG_GPU MATCHES "^sm_(80|86|89|90)$")
    message(FATAL_ERROR "kiln_add_model(${target}): GPU must be sm_80, sm_86, sm_89 or sm_90 (got '${ARG_GPU}')")
  endif()
  if(NOT ARG_CPU)
    set(ARG_CPU native)
  endif()
  if(NOT ARG_CPU MATCHES "^(native|x86-64-v4|x86-64-v3|generic)$")
    message(FATAL_ERROR "kiln_add_model(${target}): CPU must be native, x86-64-v4, x86-64-v3 or generic (got '${ARG_CPU}')")
  endif()
  if(NOT ARG_MODEL)
    message(FATAL_ERROR "kiln_add_model(${target}): MODEL is required")
  endif()
  get_filename_component(model "${ARG_MODEL}" ABSOLUTE)
  if(NOT EXISTS "${model}")
    message(FATAL_ERROR "kiln_add_model(${target}): model '${model}' does not exist")
  endif()
  if(ARG_NAME)
    set(name "${ARG_NAME}")
  else()
    get_filename_component(name "${model}" NAME_WE)
    if(name STREQUAL "model")
      get_filename_component(dir "${model}" DIRECTORY)
      get_filename_component(name "${dir}" NAME)
    endif()
    string(MAKE_C_IDENTIFIER "${name}" name)
  endif()

  if(TARGET kiln)
    set(kiln_exe "$<TARGET_FILE:kiln>")
    set(kiln_dep kiln)
  elseif(KILN_EXECUTABLE)
    set(kiln_exe "${KILN_EXECUTABLE}")
    set(kiln_dep "${KILN_EXECUTABLE}")
  else()
    message(FATAL_ERROR "kiln_add_model: no kiln compiler (find_package(Kiln) first)")
  endif()
  if(TARGET Kiln::runtime)
    set(runtime Kiln::runtime)
  else()
    set(runtime kiln_runtime)
  endif()

  # A JSON model names its weights file: rebuild when that changes too.
  set(depends ${ARG_DEPENDS})
  if(model MATCHES "\\.json$")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${model}")
    file(READ "${model}" json)
    string(JSON weights ERROR_VARIABLE no_weights GET "${json}" weights_file)
    if(NOT no_weights AND weights)
      get_filename_component(dir "${model}" DIRECTORY)
      list(APPEND depends "${dir}/${weights}")
    endif()
  endif()

  set(out "${CMAKE_CURRENT_BINARY_DIR}/${target}-kiln")
  set(generated "${out}/${name}.h" "${out}/${name}_c.h" "${out}/${name}.cpp"
                "${out}/${name}.weights" "${out}/${name}.weights.S"
                "${out}/${name}.report.json")
  add_custom_command(
    OUTPUT ${generated}
    COMMAND ${kiln_exe} compile "${model}" -o "${out}" --name "${name}"
            --report --embed-weights --cpu ${ARG_CPU} --target ${ARG_TARGET} --gpu ${ARG_GPU}
    DEPENDS "${model}" ${depends} ${kiln_dep}
    COMMENT "Kiln: compiling ${ARG_MODEL} as '${name}'"
    VERBATIM)
  set(sources "${out}/${name}.cpp" "${out}/${name}.h" "${out}/${name}_c.h"
              "${out}/${name}.weights.S")
  if(TARGET ${target})
    get_target_property(names ${target} KILN_MODEL_NAME)
    if(NOT names)
      message(FATAL_ERROR "kiln_add_model(${target}): a target '${target}' exists and was not made by kiln_add_model")
    endif()
    if("${name}" IN_LIST names)
      message(FATAL_ERROR "kiln_add_model(${target}): '${target}' already has a model named '${name}'; give this one another NAME")
    endif()
    target_sources(${target} PRIVATE ${sources})
    set_property(TARGET ${target} APPEND PROPERTY KILN_MODEL_NAME "${name}")
    set_property(TARGET ${target} APPEND PROPERTY KILN_MODEL_TARGET "${ARG_TARGET}")
    set_property(TARGET ${target} APPEND PROPERTY KILN_REPORT "${out}/${name}.report.json")
  else()
    add_library(${target} STATIC ${sources})
    set_target_properties(${target} PROPERTIES
      KILN_MODEL_NAME "${name}"
      KILN_MODEL_TARGET "${ARG_TARGET}"
      KILN_REPORT "${out}/${name}.report.json")
  endif()
  # The assembler must re-run when the embedded weights change.
  set_source_files_properties("${out}/${name}.weights.S" PROPERTIES
    OBJECT_DEPENDS "${out}/${name}.weights")
  target_include_directories(${target} PUBLIC "${out}")
  if(DEFINED KILN_MODEL_OPTIMIZATION)
    # A list or one string of flags ("-O0 -g" from the cmake command line).
    separate_arguments(options UNIX_COMMAND "${KILN_MODEL_OPTIMIZATION}")
  else()
    set(options -O3)
  endif()
  # Host code for the GPU has no CPU kernels: no -march.
  if(NOT ARG_CPU STREQUAL "generic" AND ARG_TARGET STREQUAL "cpu")
    list(APPEND options "-march=${ARG_CPU}")
  endif()
  set_source_files_properties("${out}/${name}.cpp" PROPERTIES COMPILE_OPTIONS "${options}")
  target_link_libraries(${target} PUBLIC ${runtime})
  target_compile_features(${target} PUBLIC cxx_std_17)
endfunction()
