//===- CppText.cpp - Small helpers for writing C++ source -----------------===//

#include "codegen/cpu/CppText.h"

#include "mlir/IR/BuiltinTypes.h"

#include <cmath>
#include <cstdio>
#include <set>
#include <vector>

using namespace mlir;

namespace kiln {

FailureOr<std::string> cType(Type t) {
  if (t.isF32()) return std::string("float");
  if (t.isF64()) return std::string("double");
  if (t.isF16()) return std::string("_Float16");
  if (t.isIndex()) return std::string("int64_t");
  if (t.isInteger(1)) return std::string("bool");
  if (auto i = dyn_cast<IntegerType>(t)) {
    std::string base = i.isUnsigned() ? "uint" : "int";
    switch (i.getWidth()) {
    case 8: case 16: case 32: case 64:
      return base + str(i.getWidth()) + "_t";
    }
  }
  return failure();
}

std::string floatLiteral(double v, const std::string &type) {
  // numeric_limits has no _Float16 specialisation: go through float.
  if (type == "_Float16")
    return "static_cast<_Float16>(" + floatLiteral(v, "float") + ")";
  if (std::isinf(v))
    return std::string(v < 0 ? "-" : "") + "std::numeric_limits<" + type + ">::infinity()";
  if (std::isnan(v))
    return "std::numeric_limits<" + type + ">::quiet_NaN()";
  char buf[64];
  snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  return type == "float" ? s + "f" : s;
}

std::string cStringLiteral(const std::string &s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char ch = s[i];
    // A '?' after a '?' is escaped, so that no "??" (a trigraph's start) appears.
    if (ch == '"' || ch == '\\' || (ch == '?' && i > 0 && s[i - 1] == '?'))
      out += std::string("\\") + static_cast<char>(ch);
    else if (ch < 0x20 || ch >= 0x7f) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\%03o", ch);
      out += buf;
    } else
      out += static_cast<char>(ch);
  }
  return out + "\"";
}

std::string commentText(const std::string &s) {
  std::string clean;
  for (size_t i = 0; i < s.size();) {
    unsigned char ch = s[i];
    if (ch < 0x80) {
      // Line breaks and other controls end or hide text; a backslash (or
      // the trigraph ??/) at a line's end splices the next line in.
      bool control = ch < 0x20 || ch == 0x7f;
      clean += control ? ' ' : ch == '\\' ? '/' : static_cast<char>(ch);
      if (ch == '?' && !clean.empty() && i + 1 < s.size() && s[i + 1] == '?')
        clean.back() = '.';
      ++i;
      continue;
    }
    // UTF-8: a well-formed character stays, unless it reorders or breaks
    // lines for a reader (bidirectional controls, U+2028/2029: "Trojan
    // Source"); anything else becomes '?'.
    int len = ch >= 0xf0 && ch < 0xf5 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc2 && ch < 0xe0 ? 2 : 0;
    if (ch >= 0xf5)
      len = 0;
    uint32_t code = len == 2 ? ch & 0x1f : len == 3 ? ch & 0x0f : ch & 0x07;
    bool ok = len && i + len <= s.size();
    for (int k = 1; ok && k < len; ++k) {
      unsigned char c = s[i + k];
      ok = (c & 0xc0) == 0x80;
      code = (code << 6) | (c & 0x3f);
    }
    ok = ok && !(len == 3 && code < 0x800) && !(len == 4 && (code < 0x10000 || code > 0x10ffff)) &&
         !(code >= 0xd800 && code <= 0xdfff);
    bool hidden = (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069) ||
                  code == 0x2028 || code == 0x2029 || code == 0x200e || code == 0x200f ||
                  code == 0x061c || code == 0x85;
    if (ok && !hidden) {
      clean.append(s, i, len);
      i += len;
    } else {
      clean += '?';
      i += ok ? len : 1;
    }
  }
  return clean;
}

static void collectNames(Location loc, std::vector<std::string> &names) {
  if (auto n = dyn_cast<NameLoc>(loc)) {
    names.push_back(n.getName().str());
    return;
  }
  if (auto f = dyn_cast<FusedLoc>(loc))
    for (Location l : f.getLocations())
      collectNames(l, names);
}

std::string sourceNodes(Location loc) {
  std::vector<std::string> names;
  collectNames(loc, names);
  std::string s;
  for (const std::string &n : names)
    s += (s.empty() ? "" : ", ") + commentText(n);
  return s.empty() ? "(unnamed)" : s;
}

bool isKeyword(const std::string &s) {
  // C++17 keywords, alternative tokens, and names the generated code uses.
  static const std::set<std::string> words = {
      "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor",
      "bool", "break", "case", "catch", "char", "char16_t", "char32_t",
      "class", "compl", "const", "constexpr", "const_cast", "continue",
      "decltype", "default", "delete", "do", "double", "dynamic_cast", "else",
      "enum", "explicit", "export", "extern", "false", "float", "for",
      "friend", "goto", "if", "inline", "int", "long", "mutable", "namespace",
      "new", "noexcept", "not", "not_eq", "nullptr", "operator", "or",
      "or_eq", "private", "protected", "public", "register",
      "reinterpret_cast", "return", "short", "signed", "sizeof", "static",
      "static_assert", "static_cast", "struct", "switch", "template", "this",
      "thread_local", "throw", "true", "try", "typedef", "typeid", "typename",
      "union", "unsigned", "using", "virtual", "void", "volatile", "wchar_t",
      "while", "xor", "xor_eq", "kiln", "std", "Model", "Inputs", "Outputs"};
  return words.count(s) > 0;
}

} // namespace kiln
