//===- QuantizedOps.h - Handlers for the integer quantised ops -------------===//

#ifndef KILN_LIB_IMPORT_QUANTIZEDOPS_H
#define KILN_LIB_IMPORT_QUANTIZEDOPS_H

#include "lib/Import/ImporterCore.h"

namespace kiln::import {
/// MatMulInteger, ConvInteger, QLinearMatMul, QLinearConv and
/// DynamicQuantizeLinear.
void addQuantizedHandlers(llvm::StringMap<Handler> &table);

/// The int8 form of a 2-D Conv of dequantised operands (the QDQ form that
/// ONNX Runtime's quantiser and PyTorch's exporter write): 8-bit data with
/// one scale and zero point, times constant int8 weights with per-tensor or
/// per-output-channel scales and zero zero points. A kiln.conv with
/// input_zero_point sums in int32; the scales and the bias follow as float
/// ops. Null where the operands are not of that form.
Value quantizedConv(Importer &im, Value x, Value w, Value bias, ArrayRef<int64_t> strides,
                    ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations, int64_t group);

/// The int8 form of a MatMul (or of a Gemm with transA = 0, where `gemm`
/// gives transB, alpha and C with beta) of dequantised operands: 8-bit `a`
/// with one scale and zero point times constant int8 B [K, N] (or [N, K]
/// with transB) with per-tensor or per-column scales and zero zero points,
/// K a multiple of 4. A kiln.matmul with a_zero_point sums in int32; the
/// scales, alpha and C follow as float ops. Null otherwise.
struct GemmForm {
  bool transB = false;
  float alpha = 1.0f, beta = 1.0f;
  Value c;
};
Value quantizedMatMul(Importer &im, Value a, Value b, const GemmForm &gemm = {});

/// `v`, or where `v` dequantises constants (a Conv weight left unfolded for
/// quantizedConv), its value as a float constant.
Value foldDequantized(Importer &im, Value v);
} // namespace kiln::import

#endif // KILN_LIB_IMPORT_QUANTIZEDOPS_H
