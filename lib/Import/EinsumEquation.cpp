//===- EinsumEquation.cpp - Parse ONNX Einsum equations -------------------===//

#include "lib/Import/EinsumEquation.h"

#include <algorithm>
#include <map>

namespace kiln {

static llvm::Error einsumError(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<EinsumTerms> parseEinsum(const std::string &equation,
                                        llvm::ArrayRef<int64_t> ranks) {
  std::string eq;
  for (char ch : equation)
    if (ch != ' ')
      eq += ch;
  size_t arrow = eq.find("->");
  std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> texts;
  for (size_t start = 0;;) {
    size_t comma = lhs.find(',', start);
    texts.push_back(lhs.substr(start, comma == std::string::npos ? comma : comma - start));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  if (texts.size() != ranks.size())
    return einsumError("the equation has " + std::to_string(texts.size()) +
                       " operands, the node " + std::to_string(ranks.size()));
  int64_t ellipsisRank = 0;
  std::string problem;
  // Ids of one term; `rank` resolves its ellipsis (-1: the output's).
  auto ids = [&](const std::string &text, int64_t rank) {
    std::vector<int> out;
    size_t dots = text.find("...");
    std::string head = text.substr(0, dots);
    std::string tail = dots == std::string::npos ? "" : text.substr(dots + 3);
    auto letters = [&](const std::string &part) {
      for (char ch : part) {
        if (ch >= 'a' && ch <= 'z')
          out.push_back(ch - 'a');
        else if (ch >= 'A' && ch <= 'Z')
          out.push_back(26 + ch - 'A');
        else
          problem = std::string("the equation has an invalid character '") + ch + "'";
      }
    };
    letters(head);
    if (dots != std::string::npos) {
      int64_t covered =
          rank >= 0 ? rank - (int64_t)(head.size() + tail.size()) : ellipsisRank;
      if (covered < 0)
        problem = "operand rank " + std::to_string(rank) + " is below the equation's";
      if (rank >= 0)
        ellipsisRank = std::max(ellipsisRank, covered);
      for (int64_t k = 0; k < covered; ++k)
        out.push_back(64 + int(ellipsisRank - covered + k));
    }
    letters(tail);
    if (rank >= 0 && (int64_t)out.size() != rank && problem.empty())
      problem = "an operand of rank " + std::to_string(rank) + " has " +
                std::to_string(out.size()) + " indices in the equation";
    return out;
  };
  EinsumTerms terms;
  for (size_t i = 0; i < texts.size(); ++i)
    terms.inputs.push_back(ids(texts[i], ranks[i]));
  if (arrow != std::string::npos) {
    terms.output = ids(eq.substr(arrow + 2), -1);
  } else {
    std::map<int, int> uses;
    for (const auto &t : terms.inputs)
      for (int id : t)
        ++uses[id];
    for (auto [id, n] : uses)
      if (id >= 64)
        terms.output.push_back(id);
    for (auto [id, n] : uses)
      if (id < 64 && n == 1)
        terms.output.push_back(id);
  }
  if (!problem.empty())
    return einsumError(problem);
  return terms;
}

llvm::Expected<std::vector<int64_t>> einsumShape(const EinsumTerms &terms,
                                                 llvm::ArrayRef<std::vector<int64_t>> shapes) {
  std::map<int, int64_t> size;
  for (size_t i = 0; i < terms.inputs.size() && i < shapes.size(); ++i)
    for (size_t d = 0; d < terms.inputs[i].size() && d < shapes[i].size(); ++d) {
      auto [it, fresh] = size.insert({terms.inputs[i][d], shapes[i][d]});
      if (!fresh && it->second != shapes[i][d])
        return einsumError("an index has sizes " + std::to_string(it->second) + " and " +
                           std::to_string(shapes[i][d]) +
                           " (broadcasting in Einsum is not supported)");
    }
  std::vector<int64_t> out;
  for (int id : terms.output) {
    auto it = size.find(id);
    if (it == size.end())
      return einsumError("an output index appears in no operand");
    out.push_back(it->second);
  }
  return out;
}

} // namespace kiln
