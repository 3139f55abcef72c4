#include "socle/domain/filter/ast.hpp"

namespace socle::domain::filter {

const char* ToString(CompareOp op) noexcept {
  switch (op) {
    case CompareOp::kEq: return "=";
    case CompareOp::kNeq: return "!=";
    case CompareOp::kGt: return ">";
    case CompareOp::kGte: return ">=";
    case CompareOp::kLt: return "<";
    case CompareOp::kLte: return "<=";
    case CompareOp::kLike: return "~";
    case CompareOp::kNotLike: return "!~";
  }
  return "=";
}

}  // namespace socle::domain::filter
