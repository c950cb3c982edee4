# lit configuration for Kiln's regression tests (run through CTest, or
# directly: lit.py build/test, or lit.py test/... with the build in build/ or
# $KILN_BUILD_DIR).
import os

import lit.formats

if not hasattr(config, "kiln_obj_root"):
    # Run on the source tree (lit.py test/...): use a build's site config,
    # $KILN_BUILD_DIR or build/ beside test/; it loads this file again.
    build = os.environ.get("KILN_BUILD_DIR") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build")
    site = os.path.join(build, "test", "lit.site.cfg.py")
    if not os.path.exists(site):
        lit_config.fatal("no %s: build Kiln first (cmake --build build), or set "
                         "KILN_BUILD_DIR to its build directory" % site)
    lit_config.load_config(config, site)
else:
    config.name = "Kiln"
    config.test_format = lit.formats.ShTest(not lit.util.which("bash") is None)
    config.suffixes = [".mlir", ".onnxtxt", ".test"]
    config.excludes = ["Inputs", "unit", "example", "CMakeLists.txt", "lit.cfg.py"]
    config.test_source_root = os.path.dirname(__file__)
    config.test_exec_root = os.path.join(config.kiln_obj_root, "test")

    config.environment["PATH"] = os.pathsep.join(
        [config.kiln_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")]
    )
    # Each lit run compiles into its own cache so tests never see stale builds.
    config.environment["KILN_CACHE_DIR"] = os.path.join(config.test_exec_root, "kiln-cache")
    # KILN_CXXFLAGS and the sanitizers' options pass through for scripts/sanitize.sh.
    for var in ("HOME", "CXX", "TMPDIR", "KILN_CXXFLAGS", "ASAN_OPTIONS", "UBSAN_OPTIONS"):
        if var in os.environ:
            config.environment[var] = os.environ[var]

    config.substitutions.append(("%models", os.path.join(config.kiln_src_root, "models")))
    config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))
    config.substitutions.append(("%runtime_include", os.path.join(config.kiln_src_root, "runtime", "include")))
    config.substitutions.append(("%kiln_runtime_lib", config.kiln_runtime_lib))
    if config.clangxx:
        config.available_features.add("clang")
        config.substitutions.append(("%clangxx", config.clangxx))

    # ptxas (CUDA toolkit) assembles the CUDA backend's PTX where it is installed;
    # Kiln itself never needs it.
    ptxas = lit.util.which("ptxas") or (
        "/usr/local/cuda/bin/ptxas" if os.path.exists("/usr/local/cuda/bin/ptxas") else None)
    if ptxas:
        config.available_features.add("ptxas")
        config.substitutions.append(("%ptxas", ptxas))
