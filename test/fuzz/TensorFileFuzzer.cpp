//===- TensorFileFuzzer.cpp - Fuzz target: test data files ----------------===//
//
// The bytes of a `.pb` file in a `kiln run --data` directory, parsed as the
// model declares the input: a tensor, a sequence or an optional (the first
// byte picks which). A value that parses is compared with itself, which
// reads every element its dims promise.
//
//===----------------------------------------------------------------------===//

#include "lib/Driver/TensorFile.h"
#include "onnx/onnx_pb.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  onnx::TypeProto declared;
  switch (data[0] % 3) {
  case 0:
    declared.mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    break;
  case 1:
    declared.mutable_sequence_type()->mutable_elem_type()->mutable_tensor_type()->set_elem_type(
        onnx::TensorProto::FLOAT);
    break;
  default:
    declared.mutable_optional_type()->mutable_elem_type()->mutable_tensor_type()->set_elem_type(
        onnx::TensorProto::FLOAT);
    break;
  }
  std::string bytes(reinterpret_cast<const char *>(data) + 1, size - 1);
  auto value = kiln::parseValueFile(bytes, declared, "fuzz/input_0.pb");
  if (!value) {
    llvm::consumeError(value.takeError());
    return 0;
  }
  kiln::compareValues(*value, *value, 1e-3, 1e-7);
  return 0;
}
