#include "socle/application/validation.hpp"

namespace socle::application {

void FieldErrors::Add(domain::Error error) {
  if (!error_) {
    error_ = std::move(error);
    return;
  }
  for (auto& field : error.fields) error_->fields.push_back(std::move(field));
}

}  // namespace socle::application
