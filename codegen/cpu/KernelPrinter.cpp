//===- KernelPrinter.cpp - The kernel form -> one C++ function ------------===//
//
// Printing is two steps: decide which values print inline (pure, one use in
// the same block, and for loads no write in between), then walk the body
// printing statements. `scf.parallel` becomes a ThreadPool::parallelFor
// whose lambda takes __restrict copies of the buffers it uses (captured by
// reference, the parameters lose __restrict and the loops their vectors).
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/KernelPrinter.h"
#include "codegen/cpu/CppText.h"
#include "codegen/kernel/KernelForm.h"
#include "dialects/Kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/TypeSwitch.h"

#include <climits>

using namespace mlir;

namespace kiln {
namespace {

// C++ operator precedence (smaller binds tighter).
enum Prec {
  kAtom = 0,
  kPostfix = 2,
  kUnary = 3,
  kMul = 5,
  kAdd = 6,
  kShift = 7,
  kRel = 9,
  kEq = 10,
  kBitAnd = 11,
  kBitXor = 12,
  kBitOr = 13,
  kAnd = 14,
  kOr = 15,
  kCond = 16,
};

struct Expr {
  std::string text;
  int prec = kAtom;
};

/// Ops whose C++ form names an operand more than once: their operands must
/// be variables, not inline expressions.
bool repeatsOperands(Operation *op) {
  if (isa<arith::MaximumFOp, arith::MinimumFOp>(op))
    return true;
  if (auto cmp = dyn_cast<arith::CmpFOp>(op))
    return cmp.getPredicate() == arith::CmpFPredicate::ONE ||
           cmp.getPredicate() == arith::CmpFPredicate::UEQ;
  return false;
}

bool isExpressionOp(Operation *op) {
  return op->getNumResults() == 1 && op->getNumRegions() == 0 &&
         (isa<arith::ArithDialect, math::MathDialect>(op->getDialect()) ||
          isa<memref::LoadOp, UnrealizedConversionCastOp>(op));
}

class Printer {
public:
  Printer(func::FuncOp f, PrintedKernel &out) : f(f), out(out) {}

  LogicalResult run() {
    int64_t numInputs = numKernelInputs(f);
    for (BlockArgument arg : f.getArguments()) {
      bool input = arg.getArgNumber() < numInputs;
      unsigned i = input ? arg.getArgNumber() : arg.getArgNumber() - numInputs;
      std::string name = (input ? "in" : "out") + str(i);
      names[arg] = name;
      Type elt = cast<MemRefType>(arg.getType()).getElementType();
      auto t = cType(elt);
      if (failed(t))
        return f.emitError("kernel parameter of element type ") << elt
               << " has no C++ type";
      params.push_back((input ? "const " : "") + *t + " *__restrict " + name);
      if (arg.use_empty())
        c.line("(void)" + name + ";");
    }
    if (auto summary = f->getAttrOfType<StringAttr>(kSummaryAttr))
      c.line("// " + summary.str());
    f.walk([&](Operation *op) { decideInline(op); });
    printBlock(f.getBody().front());
    if (failed(status))
      return failure();
    if (out.usesPool)
      params.insert(params.begin(), "kiln::ThreadPool &pool");
    if (out.canFail) {
      c.line("return true;");
      params.push_back("std::string &error");
    }
    out.params = llvm::join(params, ", ");
    out.body = c.text;
    return success();
  }

private:
  func::FuncOp f;
  PrintedKernel &out;
  Code c;
  LogicalResult status = success();
  SmallVector<std::string> params;
  llvm::DenseMap<Value, std::string> names;
  llvm::DenseSet<Operation *> inlined;
  int nextValue = 0, nextArray = 0, loopDepth = 0, parallelDepth = 0;
  /// The TaskError of each enclosing parallelFor that has checks.
  SmallVector<std::string> taskErrors;

  void fail(Operation *op, const Twine &why) {
    if (succeeded(status))
      op->emitOpError(why);
    status = failure();
  }

  std::string type(Type t) {
    auto ct = cType(t);
    return succeeded(ct) ? *ct : "void";
  }
  /// Unsigned C++ type of the width of integer type `t`.
  std::string unsignedType(Type t) {
    if (t.isIndex())
      return "uint64_t";
    if (t.isInteger(1))
      return "bool";
    return "uint" + str(t.getIntOrFloatBitWidth()) + "_t";
  }

  void decideInline(Operation *op) {
    if (!isExpressionOp(op))
      return;
    if (isa<arith::ConstantOp>(op)) {
      inlined.insert(op);
      return;
    }
    Value v = op->getResult(0);
    if (!v.hasOneUse())
      return;
    Operation *user = *v.getUsers().begin();
    if (user->getBlock() != op->getBlock() || repeatsOperands(user))
      return;
    if (isa<memref::LoadOp>(op))
      for (Operation *it = op->getNextNode(); it != user; it = it->getNextNode())
        if (!isMemoryEffectFree(it) && !isa<memref::LoadOp>(it))
          return;
    inlined.insert(op);
  }

  // --- Expressions -----------------------------------------------------

  Expr expr(Value v) {
    if (auto it = names.find(v); it != names.end())
      return {it->second, kAtom};
    Operation *def = v.getDefiningOp();
    if (!def || !inlined.count(def)) {
      fail(def ? def : f.getOperation(), "value used before it is printed");
      return {"0", kAtom};
    }
    return opExpr(def);
  }
  /// `v` parenthesised unless it binds at least as tightly as `maxPrec`.
  std::string operand(Value v, int maxPrec) {
    Expr e = expr(v);
    return e.prec > maxPrec ? "(" + e.text + ")" : e.text;
  }
  Expr binary(Value a, const char *op, Value b, int prec) {
    return {operand(a, prec) + " " + op + " " + operand(b, prec - 1), prec};
  }
  Expr call(const std::string &fn, ValueRange args) {
    std::string s = fn + "(";
    for (auto [i, a] : llvm::enumerate(args))
      s += (i ? ", " : "") + operand(a, kCond);
    return {s + ")", kPostfix};
  }
  Expr castTo(const std::string &t, const std::string &e) {
    return {"static_cast<" + t + ">(" + e + ")", kPostfix};
  }
  Expr castTo(Type t, Value v) { return castTo(type(t), operand(v, kCond)); }
  Expr asUnsigned(Value v) { return castTo(unsignedType(v.getType()), operand(v, kCond)); }
  /// Narrow integer arithmetic promotes to int in C++: cast the result back.
  Expr wrapNarrow(Type t, Expr e) {
    if (t.isIndex() || t.getIntOrFloatBitWidth() >= 32)
      return e;
    return castTo(type(t), e.text);
  }

  Expr constant(arith::ConstantOp op) {
    Attribute attr = op.getValue();
    Type t = op.getType();
    if (auto fa = dyn_cast<FloatAttr>(attr)) {
      std::string text = floatLiteral(fa.getValueAsDouble(), type(t));
      return {text, text[0] == '-' ? kUnary : text[0] == 's' ? kPostfix : kAtom};
    }
    auto ia = cast<IntegerAttr>(attr);
    if (t.isInteger(1))
      return {ia.getValue().isZero() ? "false" : "true", kAtom};
    int64_t v = t.isIndex() ? ia.getInt() : ia.getValue().getSExtValue();
    if (v == INT64_MIN)
      return {"INT64_MIN", kAtom};
    return {str(v), v < 0 ? kUnary : kAtom};
  }

  Expr cmpf(arith::CmpFOp op) {
    using P = arith::CmpFPredicate;
    Value a = op.getLhs(), b = op.getRhs();
    auto notOf = [&](const char *o) {
      return Expr{"!(" + binary(a, o, b, kRel).text + ")", kUnary};
    };
    switch (op.getPredicate()) {
    case P::OEQ: return binary(a, "==", b, kEq);
    case P::UNE: return binary(a, "!=", b, kEq);
    case P::OLT: return binary(a, "<", b, kRel);
    case P::OLE: return binary(a, "<=", b, kRel);
    case P::OGT: return binary(a, ">", b, kRel);
    case P::OGE: return binary(a, ">=", b, kRel);
    case P::ULT: return notOf(">=");
    case P::ULE: return notOf(">");
    case P::UGT: return notOf("<=");
    case P::UGE: return notOf("<");
    case P::ONE:
      return {operand(a, kRel) + " < " + operand(b, kRel) + " || " + operand(a, kRel) + " > " +
                  operand(b, kRel), kOr};
    case P::UEQ:
      return {"!(" + operand(a, kRel) + " < " + operand(b, kRel) + " || " + operand(a, kRel) +
                  " > " + operand(b, kRel) + ")", kUnary};
    case P::UNO:
      if (a == b)
        return call("std::isnan", a);
      return {call("std::isnan", a).text + " || " + call("std::isnan", b).text, kOr};
    case P::ORD:
      if (a == b)
        return {"!" + call("std::isnan", a).text, kUnary};
      return {"!" + call("std::isnan", a).text + " && !" + call("std::isnan", b).text, kAnd};
    case P::AlwaysTrue: return {"true", kAtom};
    case P::AlwaysFalse: return {"false", kAtom};
    }
    return {"false", kAtom};
  }

  Expr cmpi(arith::CmpIOp op) {
    using P = arith::CmpIPredicate;
    Value a = op.getLhs(), b = op.getRhs();
    auto uns = [&](const char *o, int prec) {
      return Expr{asUnsigned(a).text + " " + o + " " + asUnsigned(b).text, prec};
    };
    switch (op.getPredicate()) {
    case P::eq: return binary(a, "==", b, kEq);
    case P::ne: return binary(a, "!=", b, kEq);
    case P::slt: return binary(a, "<", b, kRel);
    case P::sle: return binary(a, "<=", b, kRel);
    case P::sgt: return binary(a, ">", b, kRel);
    case P::sge: return binary(a, ">=", b, kRel);
    case P::ult: return uns("<", kRel);
    case P::ule: return uns("<=", kRel);
    case P::ugt: return uns(">", kRel);
    case P::uge: return uns(">=", kRel);
    }
    return {"false", kAtom};
  }

  /// The C++ function of a math op on float/double.
  std::string mathFunction(Operation *op) {
    bool f32 = op->getResult(0).getType().isF32();
    return llvm::TypeSwitch<Operation *, std::string>(op)
        .Case<math::ExpOp>([&](auto) { return f32 ? "kiln::vm::exp" : "std::exp"; })
        .Case<math::ErfOp>([&](auto) { return f32 ? "kiln::vm::erf" : "std::erf"; })
        .Case<math::TanhOp>([&](auto) { return f32 ? "kiln::vm::tanh" : "std::tanh"; })
        .Case<math::SqrtOp>([&](auto) { return "std::sqrt"; })
        .Case<math::LogOp>([&](auto) { return "std::log"; })
        .Case<math::Log1pOp>([&](auto) { return "std::log1p"; })
        .Case<math::Log2Op>([&](auto) { return "std::log2"; })
        .Case<math::Log10Op>([&](auto) { return "std::log10"; })
        .Case<math::ExpM1Op>([&](auto) { return "std::expm1"; })
        .Case<math::Exp2Op>([&](auto) { return "std::exp2"; })
        .Case<math::SinOp>([&](auto) { return "std::sin"; })
        .Case<math::CosOp>([&](auto) { return "std::cos"; })
        .Case<math::TanOp>([&](auto) { return "std::tan"; })
        .Case<math::AsinOp>([&](auto) { return "std::asin"; })
        .Case<math::AcosOp>([&](auto) { return "std::acos"; })
        .Case<math::AtanOp>([&](auto) { return "std::atan"; })
        .Case<math::Atan2Op>([&](auto) { return "std::atan2"; })
        .Case<math::SinhOp>([&](auto) { return "std::sinh"; })
        .Case<math::CoshOp>([&](auto) { return "std::cosh"; })
        .Case<math::AsinhOp>([&](auto) { return "std::asinh"; })
        .Case<math::AcoshOp>([&](auto) { return "std::acosh"; })
        .Case<math::AtanhOp>([&](auto) { return "std::atanh"; })
        .Case<math::CeilOp>([&](auto) { return "std::ceil"; })
        .Case<math::FloorOp>([&](auto) { return "std::floor"; })
        .Case<math::TruncOp>([&](auto) { return "std::trunc"; })
        .Case<math::RoundOp>([&](auto) { return "std::round"; })
        // The default rounding mode rounds half to even.
        .Case<math::RoundEvenOp>([&](auto) { return "std::nearbyint"; })
        .Case<math::AbsFOp>([&](auto) { return "std::fabs"; })
        .Case<math::PowFOp>([&](auto) { return "std::pow"; })
        .Case<math::FmaOp>([&](auto) { return "std::fma"; })
        .Case<math::CbrtOp>([&](auto) { return "std::cbrt"; })
        .Case<math::CopySignOp>([&](auto) { return "std::copysign"; })
        .Case<math::AbsIOp>([&](auto) { return "std::abs"; })
        .Default([&](Operation *) { return std::string(); });
  }

  Expr opExpr(Operation *op) {
    Type rt = op->getResult(0).getType();
    auto v = [&](unsigned i) { return op->getOperand(i); };
    auto arith2 = [&](const char *o, int prec) {
      return wrapNarrow(rt, binary(v(0), o, v(1), prec));
    };
    auto unsignedBinary = [&](const char *o) {
      return castTo(type(rt), asUnsigned(v(0)).text + " " + o + " " + asUnsigned(v(1)).text);
    };
    auto minmax = [&](const char *fn, bool u) {
      if (!u)
        return Expr{std::string(fn) + "<" + type(rt) + ">(" + operand(v(0), kCond) + ", " +
                        operand(v(1), kCond) + ")", kPostfix};
      return castTo(type(rt), std::string(fn) + "<" + unsignedType(rt) + ">(" +
                                  asUnsigned(v(0)).text + ", " + asUnsigned(v(1)).text + ")");
    };
    return llvm::TypeSwitch<Operation *, Expr>(op)
        .Case<arith::ConstantOp>([&](auto o) { return constant(o); })
        .Case<arith::AddFOp>([&](auto) { return binary(v(0), "+", v(1), kAdd); })
        .Case<arith::SubFOp>([&](auto) { return binary(v(0), "-", v(1), kAdd); })
        .Case<arith::MulFOp>([&](auto) { return binary(v(0), "*", v(1), kMul); })
        .Case<arith::DivFOp>([&](auto) { return binary(v(0), "/", v(1), kMul); })
        .Case<arith::RemFOp>([&](auto) { return call("std::fmod", op->getOperands()); })
        .Case<arith::NegFOp>([&](auto) {
          std::string x = operand(v(0), kUnary);
          return Expr{"-" + (x[0] == '-' ? "(" + x + ")" : x), kUnary};
        })
        .Case<arith::AddIOp>([&](auto) {
          // x + -3 reads better as x - 3.
          if (auto c = v(1).getDefiningOp<arith::ConstantOp>())
            if (auto i = dyn_cast<IntegerAttr>(c.getValue());
                i && rt.isIndex() && i.getInt() < 0 && i.getInt() != INT64_MIN)
              return Expr{operand(v(0), kAdd) + " - " + str(-i.getInt()), kAdd};
          return arith2("+", kAdd);
        })
        .Case<arith::SubIOp>([&](auto) { return arith2("-", kAdd); })
        .Case<arith::MulIOp>([&](auto) { return arith2("*", kMul); })
        .Case<arith::DivSIOp>([&](auto) { return arith2("/", kMul); })
        .Case<arith::RemSIOp>([&](auto) { return arith2("%", kMul); })
        .Case<arith::DivUIOp>([&](auto) { return unsignedBinary("/"); })
        .Case<arith::RemUIOp>([&](auto) { return unsignedBinary("%"); })
        .Case<arith::ShLIOp>([&](auto) { return castTo(type(rt), binary(v(0), "<<", v(1), kShift).text); })
        .Case<arith::ShRSIOp>([&](auto) { return wrapNarrow(rt, binary(v(0), ">>", v(1), kShift)); })
        .Case<arith::ShRUIOp>([&](auto) {
          return castTo(type(rt), asUnsigned(v(0)).text + " >> " + operand(v(1), kShift - 1));
        })
        .Case<arith::AndIOp>([&](auto) {
          return rt.isInteger(1) ? binary(v(0), "&&", v(1), kAnd)
                                 : wrapNarrow(rt, binary(v(0), "&", v(1), kBitAnd));
        })
        .Case<arith::OrIOp>([&](auto) {
          return rt.isInteger(1) ? binary(v(0), "||", v(1), kOr)
                                 : wrapNarrow(rt, binary(v(0), "|", v(1), kBitOr));
        })
        .Case<arith::XOrIOp>([&](auto) {
          if (rt.isInteger(1)) {
            auto isTrue = [](Value x) {
              auto c = x.getDefiningOp<arith::ConstantOp>();
              return c && cast<IntegerAttr>(c.getValue()).getValue().isOne();
            };
            if (isTrue(v(1)))
              return Expr{"!" + operand(v(0), kUnary), kUnary};
            return binary(v(0), "!=", v(1), kEq);
          }
          return wrapNarrow(rt, binary(v(0), "^", v(1), kBitXor));
        })
        .Case<arith::MaxSIOp>([&](auto) { return minmax("std::max", false); })
        .Case<arith::MinSIOp>([&](auto) { return minmax("std::min", false); })
        .Case<arith::MaxUIOp>([&](auto) { return minmax("std::max", true); })
        .Case<arith::MinUIOp>([&](auto) { return minmax("std::min", true); })
        .Case<arith::MaximumFOp, arith::MinimumFOp>([&](auto) {
          // NaN-propagating, as ONNX Max/Min are.
          const char *o = isa<arith::MaximumFOp>(op) ? " > " : " < ";
          std::string a = operand(v(0), kAtom), b = operand(v(1), kAtom);
          return Expr{"(" + a + o + b + " || " + a + " != " + a + ") ? " + a + " : " + b, kCond};
        })
        .Case<arith::MaxNumFOp>([&](auto) { return call("std::fmax", op->getOperands()); })
        .Case<arith::MinNumFOp>([&](auto) { return call("std::fmin", op->getOperands()); })
        .Case<arith::CmpFOp>([&](auto o) { return cmpf(o); })
        .Case<arith::CmpIOp>([&](auto o) { return cmpi(o); })
        .Case<arith::SelectOp>([&](auto) {
          return Expr{operand(v(0), kOr) + " ? " + operand(v(1), kOr) + " : " +
                          operand(v(2), kCond), kCond};
        })
        .Case<arith::ExtFOp, arith::TruncFOp, arith::SIToFPOp, arith::FPToSIOp, arith::ExtSIOp,
              arith::TruncIOp, arith::IndexCastOp>([&](auto) { return castTo(rt, v(0)); })
        .Case<arith::UIToFPOp, arith::ExtUIOp, arith::IndexCastUIOp>([&](auto) {
          return castTo(type(rt), asUnsigned(v(0)).text);
        })
        .Case<arith::FPToUIOp>([&](auto) {
          return castTo(type(rt), castTo(unsignedType(rt), operand(v(0), kCond)).text);
        })
        .Case<arith::BitcastOp>([&](auto) {
          return Expr{"__builtin_bit_cast(" + type(rt) + ", " + operand(v(0), kCond) + ")",
                      kPostfix};
        })
        .Case<UnrealizedConversionCastOp>([&](auto) { return castTo(rt, v(0)); })
        .Case<memref::LoadOp>([&](auto o) {
          return Expr{access(o.getMemRef(), o.getIndices()), kPostfix};
        })
        .Default([&](Operation *) {
          if (isa<math::MathDialect>(op->getDialect())) {
            std::string fn = mathFunction(op);
            if (!fn.empty())
              return call(fn, op->getOperands());
          }
          fail(op, "has no C++ form in the kernel printer");
          return Expr{"0", kAtom};
        });
  }

  /// `buffer[i]`, with multi-dimensional indices linearised.
  std::string access(Value buffer, ValueRange indices) {
    auto type = cast<MemRefType>(buffer.getType());
    std::string base = names.lookup(buffer);
    if (base.empty()) {
      fail(f, "memref without a name");
      return "0";
    }
    if (indices.size() == 1)
      return base + "[" + operand(indices[0], kCond) + "]";
    SmallVector<int64_t> strides(type.getRank(), 1);
    for (int64_t d = type.getRank() - 2; d >= 0; --d)
      strides[d] = strides[d + 1] * type.getDimSize(d + 1);
    std::string e;
    for (auto [i, idx] : llvm::enumerate(indices)) {
      std::string term = operand(idx, strides[i] == 1 ? kAdd - 1 : kMul);
      if (strides[i] != 1)
        term += " * " + str(strides[i]);
      e += (e.empty() ? "" : " + ") + term;
    }
    return base + "[" + (e.empty() ? "0" : e) + "]";
  }

  // --- Statements ------------------------------------------------------

  void printBlock(Block &block) {
    for (Operation &op : block) {
      if (failed(status))
        return;
      printOp(&op);
    }
  }

  std::string newValue() { return "v" + str(nextValue++); }

  void printOp(Operation *op) {
    if (inlined.count(op) || isa<func::ReturnOp, scf::YieldOp, scf::ReduceOp, ElementAtOp>(op))
      return;
    if (isExpressionOp(op)) {
      if (op->use_empty())
        return;
      Value r = op->getResult(0);
      std::string name = newValue();
      c.line("const " + type(r.getType()) + " " + name + " = " + opExpr(op).text + ";");
      names[r] = name;
      return;
    }
    llvm::TypeSwitch<Operation *>(op)
        .Case<memref::StoreOp>([&](auto o) {
          c.line(access(o.getMemRef(), o.getIndices()) + " = " +
                 operand(o.getValueToStore(), kCond) + ";");
        })
        .Case<memref::AllocaOp>([&](auto o) {
          MemRefType t = o.getType();
          if (o->use_empty())
            return;
          std::string name = "t" + str(nextArray++);
          if (!t.hasStaticShape())
            return fail(op, "local arrays must have a static shape");
          std::string align;
          if (auto a = o.getAlignment())
            align = "alignas(" + str(*a) + ") ";
          c.line(align + type(t.getElementType()) + " " + name + "[" +
                 str(t.getNumElements()) + "];");
          names[o.getResult()] = name;
        })
        .Case<memref::GetGlobalOp>([&](memref::GetGlobalOp o) {
          // A constant table of the kernel module, local to the function.
          auto global = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
              f, o.getNameAttr());
          auto values = global ? dyn_cast_or_null<DenseElementsAttr>(
                                     global.getInitialValue().value_or(Attribute()))
                               : DenseElementsAttr();
          if (!values || !global.getConstant())
            return fail(op, "reads a global that is not a constant table");
          Type et = values.getElementType();
          std::string name = "g" + str(nextArray++), list;
          if (isa<FloatType>(et)) {
            for (APFloat v : values.getValues<APFloat>())
              list += (list.empty() ? "" : ", ") + floatLiteral(v.convertToDouble(), type(et));
          } else {
            for (APInt v : values.getValues<APInt>())
              list += (list.empty() ? "" : ", ") + str(v.getSExtValue());
          }
          c.line("static const " + type(et) + " " + name + "[] = {" + list + "};");
          names[o.getResult()] = name;
        })
        .Case<memref::AllocOp>([&](auto o) {
          // Heap scratch (accumulators too large for the stack).
          MemRefType t = o.getType();
          if (!t.hasStaticShape())
            return fail(op, "allocations must have a static shape");
          std::string name = "t" + str(nextArray++), et = type(t.getElementType());
          c.line(et + " *" + name + " = new " + et + "[" + str(t.getNumElements()) + "];");
          names[o.getResult()] = name;
        })
        .Case<memref::DeallocOp>([&](auto o) {
          c.line("delete[] " + names.lookup(o.getMemref()) + ";");
        })
        .Case<memref::SubViewOp>([&](auto o) {
          // A contiguous piece of a flat buffer: printed as a pointer.
          if (o.getMixedOffsets().size() != 1)
            return fail(op, "only subviews of flat buffers print as C++");
          OpFoldResult off = o.getMixedOffsets()[0];
          std::string base = names.lookup(o.getSource());
          std::string offset;
          if (auto v = dyn_cast<Value>(off))
            offset = operand(v, kAdd);
          else
            offset = str(cast<IntegerAttr>(cast<Attribute>(off)).getInt());
          names[o.getResult()] = offset == "0" ? base : base + " + " + offset;
        })
        .Case<memref::CopyOp>([&](auto o) {
          auto t = cast<MemRefType>(o.getTarget().getType());
          c.line("std::memcpy(" + names.lookup(o.getTarget()) + ", " +
                 names.lookup(o.getSource()) + ", " + str(t.getNumElements()) + " * sizeof(" +
                 type(t.getElementType()) + "));");
        })
        .Case<CheckOp>([&](CheckOp o) { printCheck(o); })
        .Case<GemmTileOp>([&](GemmTileOp o) {
          // The micro-kernel takes row pointers: one per offset in `rows`.
          out.usesMicroKernel = true;
          if (cast<MemRefType>(o.getAcc().getType()).getElementType().isInteger(32)) {
            printInt8Tile(o);
            return;
          }
          int64_t count = o.getTileRows() * o.getTaps();
          std::string ptrs = "p" + str(nextArray++), rows = names.lookup(o.getRows());
          std::string depth = operand(o.getDepth(), kAdd);
          std::string row = names.lookup(o.getA()) + " + " + rows + "[q]";
          if (o.getAlt())
            row = "(" + names.lookup(o.getAltRows()) + "[q] ? " + names.lookup(o.getAlt()) +
                  " : " + names.lookup(o.getA()) + ") + " + rows + "[q]";
          if (o.getZeroRows()) {
            c.line("alignas(64) static const float " + ptrs + "z[" + depth + "] = {};");
            row = rows + "[q] < 0 ? " + ptrs + "z : " + row;
          }
          c.line("const float *" + ptrs + "[" + str(count) + "];");
          c.line("for (int64_t q = 0; q < " + str(count) + "; ++q) " + ptrs + "[q] = " + row +
                 ";");
          std::string base = operand(o.getBBase(), kAdd);
          bool strided = o.getAStride() != 1;
          c.line("kiln::mk::gemmTile<" + str(o.getWidth()) + ", " + str(o.getTileRows()) + ", " +
                 str(o.getVectors()) + (strided ? ", true" : "") + ">(" + ptrs + ", " +
                 str(o.getTaps()) + ", " + depth + ", " + names.lookup(o.getB()) +
                 (base == "0" ? "" : " + " + base) + ", " + names.lookup(o.getAcc()) +
                 (strided ? ", " + str(o.getAStride()) : "") + ");");
        })
        .Case<DepthwiseTileOp>([&](DepthwiseTileOp o) {
          // Row pointers, null for the tap rows in the padding.
          out.usesMicroKernel = true;
          int64_t count = o.getKernelH();
          std::string ptrs = "p" + str(nextArray++), rows = names.lookup(o.getRows());
          c.line("const float *" + ptrs + "[" + str(count) + "];");
          c.line("for (int64_t q = 0; q < " + str(count) + "; ++q) " + ptrs + "[q] = " + rows +
                 "[q] < 0 ? nullptr : " + names.lookup(o.getX()) + " + " + rows + "[q];");
          auto at = [&](Value buffer, Value base) {
            std::string offset = operand(base, kAdd);
            return names.lookup(buffer) + (offset == "0" ? "" : " + " + offset);
          };
          std::string range;
          if (o.getKwBegin() != 0 || o.getKwEnd() != o.getKernelW())
            range = ", " + str(o.getKwBegin()) + ", " + str(o.getKwEnd());
          bool grouped = o.getGroupSize() > 1;
          c.line(std::string("kiln::mk::") + (grouped ? "groupedTile<" : "depthwiseTile<") +
                 str(o.getWidth()) + ", " + str(o.getPixels()) +
                 ", " + str(o.getVectors()) + ", " + str(o.getKernelH()) + ", " +
                 str(o.getKernelW()) + ", " + str(o.getStride()) + ", " + str(o.getDilation()) +
                 ", " + str(o.getChannels()) +
                 (grouped ? ", " + str(o.getGroupSize()) : std::string()) + range + ">(" + ptrs +
                 ", " +
                 at(o.getW(), o.getWBase()) + ", " +
                 (o.getBias() ? at(o.getBias(), o.getBiasBase()) : std::string("nullptr")) +
                 ", " + names.lookup(o.getAcc()) + ");");
        })
        .Case<TopIndicesOp>([&](TopIndicesOp o) {
          std::string order = names.lookup(o.getOrder()), keys = names.lookup(o.getKeys());
          std::string base = operand(o.getBase(), kAdd);
          std::string stride = o.getStride() == 1 ? "" : " * " + str(o.getStride());
          std::string kt = type(cast<MemRefType>(o.getKeys().getType()).getElementType());
          c.line("for (int64_t j = 0; j < " + str(o.getN()) + "; ++j) " + order + "[j] = j;");
          c.line("std::partial_sort(" + order + ", " + order + " + " + str(o.getK()) + ", " +
                 order + " + " + str(o.getN()) + ", [&](int64_t a, int64_t b) {");
          c.line("  const " + kt + " va = " + keys + "[" + base + " + a" + stride + "], vb = " +
                 keys + "[" + base + " + b" + stride + "];");
          c.line(std::string("  return va ") + (o.getLargest() ? ">" : "<") +
                 " vb || (va == vb && a < b);");
          c.line("});");
        })
        .Case<MmaBlockOp>([&](MmaBlockOp o) { printMmaBlock(o); })
        .Case<scf::ForOp>([&](auto o) { printFor(o); })
        .Case<scf::ParallelOp>([&](auto o) { printParallel(o); })
        .Case<scf::IfOp>([&](auto o) { printIf(o); })
        .Default([&](Operation *) { fail(op, "has no C++ form in the kernel printer"); });
  }

  /// Assigns the operands of `yield` to `targets` (through temporaries when
  /// several, as later targets may be read by earlier values).
  void assignYield(Operation *yield, ArrayRef<std::string> targets) {
    if (targets.size() == 1) {
      if (expr(yield->getOperand(0)).text != targets[0])
        c.line(targets[0] + " = " + operand(yield->getOperand(0), kCond) + ";");
      return;
    }
    // Values that are names other than the targets assign directly.
    SmallVector<std::string> direct;
    for (Value v : yield->getOperands()) {
      auto it = names.find(v);
      if (it == names.end() || llvm::is_contained(targets, it->second))
        break;
      direct.push_back(it->second);
    }
    if (direct.size() == targets.size()) {
      for (auto [t, v] : llvm::zip(targets, direct))
        c.line(t + " = " + v + ";");
      return;
    }
    SmallVector<std::string> temps;
    for (Value v : yield->getOperands()) {
      temps.push_back(newValue());
      c.line("const " + type(v.getType()) + " " + temps.back() + " = " + operand(v, kCond) + ";");
    }
    for (auto [t, tmp] : llvm::zip(targets, temps))
      c.line(t + " = " + tmp + ";");
  }

  void printFor(scf::ForOp o) {
    SmallVector<std::string> accs;
    for (auto [init, arg, res] :
         llvm::zip(o.getInitArgs(), o.getRegionIterArgs(), o.getResults())) {
      std::string name = "a" + str(nextValue++);
      c.line(type(arg.getType()) + " " + name + " = " + operand(init, kCond) + ";");
      names[arg] = name;
      names[res] = name;
      accs.push_back(name);
    }
    std::string iv = "i" + str(loopDepth);
    names[o.getInductionVar()] = iv;
    auto stepConst = o.getStep().template getDefiningOp<arith::ConstantOp>();
    bool unit = stepConst && cast<IntegerAttr>(stepConst.getValue()).getInt() == 1;
    c.open("for (int64_t " + iv + " = " + operand(o.getLowerBound(), kCond) + "; " + iv +
           " < " + operand(o.getUpperBound(), kRel - 1) + "; " +
           (unit ? "++" + iv : iv + " += " + operand(o.getStep(), kCond)) + ")");
    ++loopDepth;
    printBlock(*o.getBody());
    if (!accs.empty())
      assignYield(o.getBody()->getTerminator(), accs);
    --loopDepth;
    c.close();
  }

  /// kiln.mma_block as its definition: each output of the block tile sums
  /// the products of inputs rounded to the tensor cores' precision (the
  /// emulation of the CUDA backend).
  void printMmaBlock(MmaBlockOp o) {
    out.usesRounding = true;
    std::string round = "kiln::rounding::" + o.getPrecision().str();
    std::string bi = "i" + str(loopDepth), bj = "i" + str(loopDepth + 1),
                kk = "i" + str(loopDepth + 2), sum = newValue();
    std::string row = newValue(), col = newValue();
    c.open("for (int64_t " + bi + " = 0; " + bi + " < " + str(o.getBlockM()) + "; ++" + bi + ")");
    c.open("for (int64_t " + bj + " = 0; " + bj + " < " + str(o.getBlockN()) + "; ++" + bj + ")");
    loopDepth += 3;
    c.line("const int64_t " + row + " = " + operand(o.getM0(), kAdd) + " + " + bi + ";");
    c.line("const int64_t " + col + " = " + operand(o.getN0(), kAdd) + " + " + bj + ";");
    c.line("float " + sum + " = 0.0f;");
    c.open("if (" + row + " < " + str(o.getM()) + " && " + col + " < " + str(o.getN()) + ")");
    c.open("for (int64_t " + kk + " = 0; " + kk + " < " + str(o.getK()) + "; ++" + kk + ")");
    // One operand element: its region's index arithmetic, then the load.
    auto element = [&](Region &r, const std::string &first, const std::string &second,
                       Value buffer) {
      Block &body = r.front();
      names[body.getArgument(0)] = first;
      names[body.getArgument(1)] = second;
      printBlock(body);
      auto at = cast<ElementAtOp>(body.getTerminator());
      std::string v = newValue();
      std::string load = names.lookup(buffer) + "[" + operand(at.getIndex(), kCond) + "]";
      auto exists = at.getExists().getDefiningOp<arith::ConstantOp>();
      if (!exists || !cast<BoolAttr>(exists.getValue()).getValue())
        load = operand(at.getExists(), kCond) + " ? " + load + " : 0.0f";
      c.line("const float " + v + " = " + round + "(" + load + ");");
      return v;
    };
    std::string a = element(o.getAElement(), row, kk, o.getA());
    std::string b = element(o.getBElement(), kk, col, o.getB());
    c.line(sum + " += " + a + " * " + b + ";");
    c.close();
    c.close();
    c.line(names.lookup(o.getAcc()) + "[" + bi + " * " + str(o.getBlockN()) + " + " + bj +
           "] = " + sum + ";");
    loopDepth -= 3;
    c.close();
    c.close();
  }

  void printParallel(scf::ParallelOp o) {
    if (o.getNumLoops() != 1 || o.getNumReductions() != 0)
      return fail(o, "only one-dimensional parallel loops without reductions print as C++");
    auto isConst = [](Value v, int64_t want) {
      auto cst = v.getDefiningOp<arith::ConstantOp>();
      return cst && cast<IntegerAttr>(cst.getValue()).getInt() == want;
    };
    if (!isConst(o.getLowerBound()[0], 0) || !isConst(o.getStep()[0], 1))
      return fail(o, "parallel loops must start at 0 with step 1");
    std::string iv = "p" + str(loopDepth);
    names[o.getInductionVars()[0]] = iv;
    // In the GPU form (emulation), a launch of one block or one thread is a
    // plain block (its checks can return); a parallel loop inside another
    // runs its iterations in order, one valid schedule (the GPU form's
    // threads of a block).
    bool launch = o->hasAttr(kThreadsAttr) || o->getParentOp()->hasAttr(kThreadsAttr);
    bool single = launch && isConst(o.getUpperBound()[0], 1);
    if (single || parallelDepth) {
      if (single) {
        c.open("");
        c.line("const int64_t " + iv + " = 0;");
        c.line("(void)" + iv + ";");
      } else {
        c.open("for (int64_t " + iv + " = 0; " + iv + " < " +
               operand(o.getUpperBound()[0], kRel) + "; ++" + iv + ")");
      }
      ++loopDepth;
      printBlock(*o.getBody());
      --loopDepth;
      c.close();
      return;
    }
    out.usesPool = true;
    bool checks = false;
    o.walk([&](CheckOp) { checks = true; });
    if (checks) {
      taskErrors.push_back("e" + str(nextValue++));
      c.line("kiln::TaskError " + taskErrors.back() + ";");
    }
    c.open("pool.parallelFor(" + operand(o.getUpperBound()[0], kCond) +
           ", [&](int64_t begin, int64_t end)");
    // Buffers used inside, re-declared __restrict in the lambda.
    llvm::SetVector<BlockArgument> used;
    o.walk([&](Operation *inner) {
      for (Value v : inner->getOperands())
        if (auto arg = dyn_cast<BlockArgument>(v); arg && arg.getOwner() == &f.getBody().front())
          used.insert(arg);
    });
    llvm::DenseMap<Value, std::string> saved;
    int64_t numInputs = numKernelInputs(f);
    SmallVector<BlockArgument> ordered(used.begin(), used.end());
    llvm::sort(ordered, [](BlockArgument a, BlockArgument b) {
      return a.getArgNumber() < b.getArgNumber();
    });
    for (BlockArgument arg : ordered) {
      bool input = arg.getArgNumber() < numInputs;
      std::string local = (input ? "r" : "w") +
                          str(input ? arg.getArgNumber() : arg.getArgNumber() - numInputs);
      Type elt = cast<MemRefType>(arg.getType()).getElementType();
      c.line(std::string(input ? "const " : "") + type(elt) + " *__restrict " + local + " = " +
             names[arg] + ";");
      saved[arg] = names[arg];
      names[arg] = local;
    }
    c.open("for (int64_t " + iv + " = begin; " + iv + " < end; ++" + iv + ")");
    ++loopDepth;
    ++parallelDepth;
    printBlock(*o.getBody());
    --parallelDepth;
    --loopDepth;
    c.close();
    c.close(");");
    for (auto &[v, name] : saved)
      names[v] = name;
    if (checks) {
      c.open("if (" + taskErrors.back() + ".failed())");
      c.line("error = " + taskErrors.back() + ".message();");
      c.line("return false;");
      c.close();
      taskErrors.pop_back();
    }
  }

  /// kiln::mk::gemmTileInt8 over byte row pointers; padding rows read a
  /// row of the input zero point.
  void printInt8Tile(GemmTileOp o) {
    int64_t count = o.getTileRows() * o.getTaps();
    std::string ptrs = "p" + str(nextArray++), rows = names.lookup(o.getRows());
    std::string depth = operand(o.getDepth(), kAdd);
    std::string a = "reinterpret_cast<const uint8_t *>(" + names.lookup(o.getA()) + ")";
    std::string row = a + " + " + rows + "[q]";
    if (o.getZeroRows()) {
      c.line("alignas(64) uint8_t " + ptrs + "z[" + depth + "];");
      c.line("std::memset(" + ptrs + "z, " + str(uint8_t(o.getZeroPoint().value_or(0))) +
             ", sizeof(" + ptrs + "z));");
      row = rows + "[q] < 0 ? " + ptrs + "z : " + row;
    }
    c.line("const uint8_t *" + ptrs + "[" + str(count) + "];");
    c.line("for (int64_t q = 0; q < " + str(count) + "; ++q) " + ptrs + "[q] = " + row + ";");
    std::string base = operand(o.getBBase(), kAdd);
    bool signedA = !cast<MemRefType>(o.getA().getType()).getElementType().isUnsignedInteger();
    c.line("kiln::mk::gemmTileInt8<" + str(o.getWidth()) + ", " + str(o.getTileRows()) + ", " +
           str(o.getVectors()) + ", " + (signedA ? "true" : "false") + ">(" + ptrs + ", " +
           str(o.getTaps()) + ", " + depth + ", reinterpret_cast<const int8_t *>(" +
           names.lookup(o.getB()) + ")" + (base == "0" ? "" : " + " + base) + ", " +
           names.lookup(o.getAcc()) + ");");
  }

  /// if (!ok) { error = message with {i} replaced by values; return false; }
  void printCheck(CheckOp o) {
    out.canFail = true;
    std::string message, literal;
    auto flush = [&] {
      if (!literal.empty())
        message += (message.empty() ? "std::string(" + cStringLiteral(literal) + ")"
                                    : " + " + cStringLiteral(literal));
      literal.clear();
    };
    StringRef text = o.getMessage();
    while (!text.empty()) {
      size_t open = text.find('{'), close = text.find('}', open);
      unsigned index = 0;
      if (open == StringRef::npos || close == StringRef::npos ||
          text.slice(open + 1, close).getAsInteger(10, index) || index >= o.getValues().size()) {
        literal += text.str();
        break;
      }
      literal += text.take_front(open).str();
      flush();
      std::string value = "std::to_string(" + operand(o.getValues()[index], kCond) + ")";
      message += message.empty() ? value : " + " + value;
      text = text.drop_front(close + 1);
    }
    flush();
    c.open("if (!(" + operand(o.getOk(), kCond) + "))");
    if (parallelDepth) {
      // In a parallelFor task: record the failure and end the task; the
      // kernel returns it after the loop (printParallel).
      c.line(taskErrors.back() + ".set(" + (message.empty() ? "std::string()" : message) + ");");
      c.line("return;");
    } else {
      c.line("error = " + (message.empty() ? "std::string()" : message) + ";");
      c.line("return false;");
    }
    c.close();
  }

  void printIf(scf::IfOp o) {
    SmallVector<std::string> results;
    for (Value r : o.getResults()) {
      std::string name = newValue();
      c.line(type(r.getType()) + " " + name + ";");
      names[r] = name;
      results.push_back(name);
    }
    c.open("if (" + operand(o.getCondition(), kCond) + ")");
    printBlock(o.getThenRegion().front());
    if (!results.empty())
      assignYield(o.getThenRegion().front().getTerminator(), results);
    if (!o.getElseRegion().empty()) {
      c.close();
      c.open("else");
      printBlock(o.getElseRegion().front());
      if (!results.empty())
        assignYield(o.getElseRegion().front().getTerminator(), results);
    }
    c.close();
  }
};

} // namespace

LogicalResult printKernel(func::FuncOp kernel, PrintedKernel &out) {
  return Printer(kernel, out).run();
}

} // namespace kiln
