// A JSON Schema compiled into the graph the JSON recognizer (json_grammar.h) walks while it
// reads an output character by character: for response_format json_schema.
//
// The subset is the one structured-output clients send (OpenAI, vLLM, llama.cpp users,
// pydantic): type (or a list of types), properties, required, additionalProperties (false or
// a schema; allowed by default as JSON Schema says), items, prefixItems, minItems, maxItems,
// enum, const, anyOf, oneOf (enforced as anyOf), allOf of one schema, $ref to a location of the
// same document (#/$defs/..., #/definitions/..., #; recursion allowed), minLength and maxLength,
// and annotations (title, description, default, examples, ...), which are ignored. Any other
// keyword is refused with a JsonSchemaError naming it and its JSON pointer: a schema that
// cannot be enforced exactly must never produce an unchecked output.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "lmkit/base/error.h"

namespace lmkit::server {

// A schema the compiler refuses. `pointer` is the JSON pointer of the offending keyword (or
// schema) inside the schema document; what() says what is wrong and names both.
class JsonSchemaError : public Error {
 public:
  JsonSchemaError(const std::string& message, std::string pointer)
      : Error(message), pointer_(std::move(pointer)) {}
  const std::string& pointer() const { return pointer_; }

 private:
  std::string pointer_;
};

// Bits of SchemaNode::types.
enum JsonTypeBit : uint8_t {
  kJsonNull = 1,
  kJsonBoolean = 2,
  kJsonObject = 4,
  kJsonArray = 8,
  kJsonString = 16,
  kJsonNumber = 32,   // any JSON number
  kJsonInteger = 64,  // without kJsonNumber: an integer written without fraction or exponent
};

inline constexpr uint32_t kNoNode = std::numeric_limits<uint32_t>::max();
inline constexpr uint32_t kUnbounded = std::numeric_limits<uint32_t>::max();

struct SchemaNode {
  enum class Kind : uint8_t {
    Values,    // a value of one of `types`, with the constraints below for each type
    Literals,  // exactly one of `literals` (enum / const)
    Union,     // a value of any of `alternatives` (anyOf / oneOf)
    Alias,     // compile-time only ($ref, allOf of one): resolved away before use
  };
  struct Property {
    std::string key;  // the name as written between the quotes in JSON (escaped)
    uint32_t node;
  };

  Kind kind = Kind::Values;
  uint8_t types = 0;
  // Values: the keywords its types allow ("false", "null", "true"); Literals: the compact JSON
  // texts of the allowed values. Sorted, so the candidates sharing a prefix are a range.
  std::vector<std::string> literals;
  std::vector<uint32_t> alternatives;  // Union: never unions themselves; Alias: the target
  // Objects. Sorted by key; at most 64 (the recognizer keeps one bit per property).
  std::vector<Property> properties;
  uint64_t required = 0;          // bit i: properties[i] must appear
  uint32_t additional = kNoNode;  // the schema of other keys; kNoNode: none allowed
  // Arrays: item i follows prefix_items[i], later ones `items` (kNoNode: no more items).
  std::vector<uint32_t> prefix_items;
  uint32_t items = kNoNode;
  uint32_t min_items = 0, max_items = kUnbounded;  // max_items counts prefix-only arrays too
  // Strings, in Unicode code points as JSON Schema counts them.
  uint32_t min_length = 0, max_length = kUnbounded;
  // Nesting levels (recognizer frames) a value of this node needs at least to complete;
  // kUnbounded: no value can satisfy it.
  uint32_t min_depth = kUnbounded;
  uint32_t object_depth = kUnbounded, array_depth = kUnbounded;  // the same for each type

  uint32_t item_node(uint32_t index) const {
    return index < prefix_items.size() ? prefix_items[index] : items;
  }
};

class JsonSchema {
 public:
  // Throws JsonSchemaError for what it cannot enforce, a malformed schema, or one that no
  // value can satisfy within the recognizer's nesting limit.
  static JsonSchema compile(const nlohmann::json& schema);
  // {"type": "object"}: response_format json_object.
  static const JsonSchema& any_object();

  const SchemaNode& node(uint32_t id) const { return nodes_[id]; }
  uint32_t root() const { return root_; }
  size_t size() const { return nodes_.size(); }

 private:
  friend class JsonSchemaCompiler;
  std::vector<SchemaNode> nodes_;
  uint32_t root_ = 0;
};

}  // namespace lmkit::server
