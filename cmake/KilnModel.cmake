# kiln_add_model(<target> MODEL <file> [NAME <name>] [CPU <cpu>]
#                [TARGET cpu|cuda] [GPU <sm>] [DEPENDS <files>...])
#
# Compiles a model with `kiln compile` at build time (again whenever the model,
# the files listed in DEPENDS -- e.g. a JSON model's weights file -- or the
# compiler change) and defines a static library <target> holding the generated
# C++ with the weights embedded. Link it and include "<name>.h":
#
#   kiln_add_model(classifier MODEL model.onnx NAME classifier)
#   target_link_libraries(app PRIVATE classifier)
#   // std::unique_ptr<classifier::Model> m;
#   // classifier::Model::createEmbedded(/*threads=*/2, m);
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

  set(out "${CMAKE_CURRENT_BINARY_DIR}/${target}-kiln")
  set(generated "${out}/${name}.h" "${out}/${name}.cpp" "${out}/${name}.weights"
                "${out}/${name}.weights.S" "${out}/${name}.report.json")
  add_custom_command(
    OUTPUT ${generated}
    COMMAND ${kiln_exe} compile "${model}" -o "${out}" --name "${name}"
            --report --embed-weights --cpu ${ARG_CPU} --target ${ARG_TARGET} --gpu ${ARG_GPU}
    DEPENDS "${model}" ${ARG_DEPENDS} ${kiln_dep}
    COMMENT "Kiln: compiling ${ARG_MODEL} as '${name}'"
    VERBATIM)
  add_library(${target} STATIC "${out}/${name}.cpp" "${out}/${name}.h"
                               "${out}/${name}.weights.S")
  # The assembler must re-run when the embedded weights change.
  set_source_files_properties("${out}/${name}.weights.S" PROPERTIES
    OBJECT_DEPENDS "${out}/${name}.weights")
  target_include_directories(${target} PUBLIC "${out}")
  # Host code for the GPU has no CPU kernels: no -march.
  if(NOT ARG_CPU STREQUAL "generic" AND ARG_TARGET STREQUAL "cpu")
    set_source_files_properties("${out}/${name}.cpp" PROPERTIES COMPILE_OPTIONS "-march=${ARG_CPU}")
  endif()
  target_link_libraries(${target} PUBLIC ${runtime})
  target_compile_features(${target} PUBLIC cxx_std_17)
  set_target_properties(${target} PROPERTIES
    KILN_MODEL_NAME "${name}"
    KILN_MODEL_TARGET "${ARG_TARGET}"
    KILN_REPORT "${out}/${name}.report.json")
endfunction()
