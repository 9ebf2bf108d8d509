#include "lmkit/server/json_schema.h"

#include <algorithm>
#include <cassert>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "lmkit/server/json_grammar.h"

namespace lmkit::server {

using Json = nlohmann::json;

namespace {

constexpr uint8_t kAllTypes = kJsonNull | kJsonBoolean | kJsonObject | kJsonArray | kJsonString |
                              kJsonNumber | kJsonInteger;
constexpr size_t kMaxProperties = 64;    // one bit each in a recognizer frame
constexpr size_t kMaxLiterals = 0xFFFF;  // a literal range packs into 16-bit bounds
constexpr int kMaxSchemaNesting = 256;

// Keywords that describe and never constrain.
bool is_annotation(const std::string& key) {
  static const std::set<std::string> names = {
      "title", "description", "default", "examples", "$schema", "$comment", "deprecated",
      "readOnly", "writeOnly"};
  return names.count(key) > 0;
}

bool is_value_keyword(const std::string& key) {
  static const std::set<std::string> names = {
      "type", "properties", "required", "additionalProperties", "items", "prefixItems",
      "minItems", "maxItems", "minLength", "maxLength"};
  return names.count(key) > 0;
}

std::string pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string show(const std::string& pointer) { return "'#" + pointer + "'"; }

std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string type_name(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::string: return "a string";
    case Json::value_t::array: return "an array";
    case Json::value_t::object: return "an object";
    default: return "a number";
  }
}

uint32_t add_depth(uint32_t a, uint32_t b) {  // a + b, kUnbounded absorbing
  if (a == kUnbounded || b == kUnbounded) return kUnbounded;
  return a + b;
}

}  // namespace

class JsonSchemaCompiler {
 public:
  explicit JsonSchemaCompiler(const Json& document) : document_(document) {}

  JsonSchema run() {
    schema_.root_ = compile(document_, "");
    resolve_aliases();
    compute_depths();
    filter_literals();
    const SchemaNode& root = schema_.nodes_[schema_.root_];
    if (root.min_depth == kUnbounded)
      fail("", "no JSON value satisfies this schema, so no output can follow it");
    if (root.min_depth > static_cast<uint32_t>(JsonRecognizer::kMaxDepth))
      fail("", "every value of this schema nests deeper than " +
                   std::to_string(JsonRecognizer::kMaxDepth) + " levels, the most an output may");
    return std::move(schema_);
  }

 private:
  [[noreturn]] static void fail(const std::string& pointer, const std::string& what) {
    throw JsonSchemaError("at " + show(pointer) + ": " + what, pointer);
  }
  [[noreturn]] static void cannot_enforce(const std::string& pointer, const std::string& keyword,
                                          const std::string& why = "") {
    throw JsonSchemaError(
        "keyword '" + keyword + "' at " + show(pointer) +
            " cannot be enforced by constrained decoding" + (why.empty() ? "" : " (" + why + ")") +
            "; the supported subset is listed in docs/server.md",
        pointer);
  }

  uint32_t new_node() {
    schema_.nodes_.emplace_back();
    return static_cast<uint32_t>(schema_.nodes_.size() - 1);
  }
  SchemaNode& node(uint32_t id) { return schema_.nodes_[id]; }

  // Any JSON value: `true`, {}, and the default of items and additionalProperties.
  uint32_t any_node() {
    if (any_ == kNoNode) {
      any_ = new_node();
      SchemaNode& n = node(any_);
      n.types = kAllTypes;
      n.literals = {"false", "null", "true"};
      n.additional = any_;
      n.items = any_;
    }
    return any_;
  }
  uint32_t never_node() {  // `false`
    if (never_ == kNoNode) never_ = new_node();
    return never_;
  }

  uint32_t compile(const Json& s, const std::string& pointer) {
    if (auto it = at_pointer_.find(pointer); it != at_pointer_.end()) return it->second;
    // Schemas nest (directly or through $ref) at most this deep: the compiler recurses, and a
    // request body may hold a million brackets.
    struct Nesting {
      int& depth;
      explicit Nesting(int& d) : depth(++d) {}
      ~Nesting() { --depth; }
    } nesting(depth_);
    if (depth_ > kMaxSchemaNesting)
      fail(pointer, "schemas nest (directly or through '$ref') deeper than " +
                        std::to_string(kMaxSchemaNesting) + " levels");
    if (s.is_boolean()) {
      const uint32_t id = s.get<bool>() ? any_node() : never_node();
      at_pointer_[pointer] = id;
      return id;
    }
    if (!s.is_object())
      fail(pointer, "a schema must be an object or a boolean, got " + type_name(s));
    const uint32_t id = new_node();
    at_pointer_[pointer] = id;  // before the children: recursion comes back here

    std::string composition;  // $ref, anyOf, oneOf or allOf
    std::string first_constraint;
    for (const auto& [key, value] : s.items()) {
      if (is_annotation(key) || (key == "$id" && pointer.empty())) continue;
      if (key == "$defs" || key == "definitions") {
        if (!value.is_object()) fail(pointer + "/" + key, "'" + key + "' must be an object");
        continue;  // compiled when referenced
      }
      if (key == "$ref" || key == "anyOf" || key == "oneOf" || key == "allOf") {
        if (!composition.empty())
          cannot_enforce(pointer + "/" + key, key, "beside '" + composition + "' in one schema");
        composition = key;
        continue;
      }
      if (key == "uniqueItems" && value == false) continue;  // the default: no constraint
      if (key == "enum" || key == "const" || is_value_keyword(key)) {
        if (first_constraint.empty()) first_constraint = key;
        continue;
      }
      cannot_enforce(pointer + "/" + pointer_token(key), key);
    }

    if (!composition.empty()) {
      if (!first_constraint.empty())
        cannot_enforce(pointer + "/" + pointer_token(first_constraint), first_constraint,
                       "beside '" + composition + "': only annotations may stand beside it");
      compile_composition(id, s, pointer, composition);
      return id;
    }
    SchemaNode values = compile_values(s, pointer);
    if (!s.contains("enum") && !s.contains("const")) {
      node(id) = std::move(values);
      return id;
    }
    // The value must be one of the literals and also satisfy the rest of the schema: the
    // literals are checked against that rest once the whole graph exists.
    const uint32_t rest = new_node();
    node(rest) = std::move(values);
    SchemaNode literals;
    literals.kind = SchemaNode::Kind::Literals;
    literals.literals = literal_texts(s, pointer);
    node(id) = std::move(literals);
    pending_literals_.push_back({id, rest});
    return id;
  }

  void compile_composition(uint32_t id, const Json& s, const std::string& pointer,
                           const std::string& keyword) {
    const Json& value = s.at(keyword);
    const std::string where = pointer + "/" + keyword;
    if (keyword == "$ref") {
      const uint32_t target = compile_reference(value, where);
      node(id).kind = SchemaNode::Kind::Alias;
      node(id).alternatives = {target};
      return;
    }
    if (!value.is_array() || value.empty())
      fail(where, "'" + keyword + "' must be a non-empty array of schemas");
    if (keyword == "allOf") {
      if (value.size() != 1)
        cannot_enforce(where, keyword, "only allOf of a single schema is supported, got " +
                                           std::to_string(value.size()));
      const uint32_t target = compile(value[0], where + "/0");
      node(id).kind = SchemaNode::Kind::Alias;
      node(id).alternatives = {target};
      return;
    }
    // anyOf, and oneOf as anyOf: a value valid for several alternatives is not refused.
    std::vector<uint32_t> alternatives;
    for (size_t i = 0; i < value.size(); ++i)
      alternatives.push_back(compile(value[i], where + "/" + std::to_string(i)));
    node(id).kind = SchemaNode::Kind::Union;
    node(id).alternatives = std::move(alternatives);
  }

  uint32_t compile_reference(const Json& ref, const std::string& where) {
    if (!ref.is_string()) fail(where, "'$ref' must be a string, got " + type_name(ref));
    const std::string text = ref.get<std::string>();
    if (text.empty() || text[0] != '#')
      cannot_enforce(where, "$ref", "only references inside this schema ('#/$defs/...') can be "
                                    "resolved, got '" + text + "'");
    const std::string fragment = percent_decode(text.substr(1));
    if (!fragment.empty() && fragment[0] != '/')
      cannot_enforce(where, "$ref", "anchor references ('" + text + "') are not supported");
    const Json* target = nullptr;
    try {
      const Json::json_pointer p(fragment);
      if (document_.contains(p)) target = &document_.at(p);
    } catch (const Json::exception&) {
      target = nullptr;
    }
    if (!target) fail(where, "'$ref' " + text + " points to nothing in this schema");
    return compile(*target, fragment);
  }

  std::vector<std::string> literal_texts(const Json& s, const std::string& pointer) {
    std::vector<Json> values;
    if (auto it = s.find("enum"); it != s.end()) {
      if (!it->is_array() || it->empty())
        fail(pointer + "/enum", "'enum' must be a non-empty array");
      values.assign(it->begin(), it->end());
    }
    if (auto it = s.find("const"); it != s.end()) {
      if (s.contains("enum")) {  // both: the values of the enum equal to the const
        std::vector<Json> both;
        for (const Json& v : values)
          if (v == *it) both.push_back(v);
        values = std::move(both);
      } else {
        values = {*it};
      }
    }
    std::vector<std::string> texts;
    for (const Json& v : values) texts.push_back(v.dump());  // compact, keys sorted
    std::sort(texts.begin(), texts.end());
    texts.erase(std::unique(texts.begin(), texts.end()), texts.end());
    if (texts.size() > kMaxLiterals)
      cannot_enforce(pointer + "/enum", "enum", "more than " + std::to_string(kMaxLiterals) +
                                                    " values");
    return texts;
  }

  static uint32_t count_of(const Json& s, const std::string& key, const std::string& pointer) {
    const Json& v = s.at(key);
    const std::string where = pointer + "/" + key;
    if (v.is_number_unsigned())
      return static_cast<uint32_t>(std::min<uint64_t>(v.get<uint64_t>(), kUnbounded));
    if (v.is_number_integer() && v.get<int64_t>() >= 0)
      return static_cast<uint32_t>(std::min<int64_t>(v.get<int64_t>(), kUnbounded));
    if (v.is_number_float() && v.get<double>() >= 0 && v.get<double>() == static_cast<double>(static_cast<int64_t>(v.get<double>())))
      return static_cast<uint32_t>(std::min<double>(v.get<double>(), kUnbounded));
    fail(where, "'" + key + "' must be a non-negative integer, got " + v.dump());
  }

  SchemaNode compile_values(const Json& s, const std::string& pointer) {
    SchemaNode v;
    v.kind = SchemaNode::Kind::Values;
    v.types = kAllTypes;
    if (auto it = s.find("type"); it != s.end()) v.types = type_bits(*it, pointer + "/type");
    if (v.types & kJsonBoolean) {
      v.literals.push_back("false");
      v.literals.push_back("true");
    }
    if (v.types & kJsonNull) v.literals.push_back("null");
    std::sort(v.literals.begin(), v.literals.end());

    // Objects.
    v.additional = any_node();
    if (auto it = s.find("additionalProperties"); it != s.end()) {
      if (it->is_boolean()) v.additional = it->get<bool>() ? any_node() : kNoNode;
      else v.additional = compile(*it, pointer + "/additionalProperties");
    }
    std::map<std::string, uint32_t> properties;  // by name
    if (auto it = s.find("properties"); it != s.end()) {
      if (!it->is_object()) fail(pointer + "/properties", "'properties' must be an object");
      for (const auto& [name, sub] : it->items())
        properties[name] = compile(sub, pointer + "/properties/" + pointer_token(name));
    }
    std::set<std::string> required;
    if (auto it = s.find("required"); it != s.end()) {
      if (!it->is_array()) fail(pointer + "/required", "'required' must be an array of strings");
      for (size_t i = 0; i < it->size(); ++i) {
        if (!(*it)[i].is_string())
          fail(pointer + "/required/" + std::to_string(i), "'required' must list strings");
        const std::string name = (*it)[i].get<std::string>();
        required.insert(name);
        // A required key the properties do not declare takes additionalProperties' schema.
        if (!properties.count(name))
          properties[name] = v.additional == kNoNode ? never_node() : v.additional;
      }
    }
    if (properties.size() > kMaxProperties)
      cannot_enforce(pointer + "/properties", "properties",
                     "more than " + std::to_string(kMaxProperties) + " properties in one object");
    struct Written {
      std::string key;  // the name as a JSON encoder writes it between the quotes
      uint32_t node;
      bool required;
    };
    std::vector<Written> written;
    for (const auto& [name, id] : properties) {
      const std::string quoted = Json(name).dump();
      written.push_back({quoted.substr(1, quoted.size() - 2), id, required.count(name) > 0});
    }
    // Sorted by their written form: the recognizer narrows candidates byte by byte.
    std::sort(written.begin(), written.end(),
              [](const Written& a, const Written& b) { return a.key < b.key; });
    for (size_t i = 0; i < written.size(); ++i) {
      v.properties.push_back({written[i].key, written[i].node});
      if (written[i].required) v.required |= uint64_t{1} << i;
    }

    // Arrays.
    v.items = any_node();
    if (auto it = s.find("items"); it != s.end()) {
      if (it->is_array())
        cannot_enforce(pointer + "/items", "items",
                       "a list of schemas is the draft 4-7 tuple form; use prefixItems");
      if (it->is_boolean()) v.items = it->get<bool>() ? any_node() : kNoNode;
      else v.items = compile(*it, pointer + "/items");
    }
    if (auto it = s.find("prefixItems"); it != s.end()) {
      if (!it->is_array()) fail(pointer + "/prefixItems", "'prefixItems' must be an array of schemas");
      for (size_t i = 0; i < it->size(); ++i)
        v.prefix_items.push_back(compile((*it)[i], pointer + "/prefixItems/" + std::to_string(i)));
    }
    if (s.contains("minItems")) v.min_items = count_of(s, "minItems", pointer);
    if (s.contains("maxItems")) v.max_items = count_of(s, "maxItems", pointer);
    if (v.items == kNoNode)
      v.max_items = std::min<uint32_t>(v.max_items, static_cast<uint32_t>(v.prefix_items.size()));

    // Strings.
    if (s.contains("minLength")) v.min_length = count_of(s, "minLength", pointer);
    if (s.contains("maxLength")) v.max_length = count_of(s, "maxLength", pointer);
    return v;
  }

  static uint8_t type_bits(const Json& type, const std::string& where) {
    auto one = [&](const Json& name) -> uint8_t {
      if (!name.is_string()) fail(where, "'type' must be a type name or an array of them");
      static const std::map<std::string, uint8_t> bits = {
          {"null", kJsonNull},     {"boolean", kJsonBoolean}, {"object", kJsonObject},
          {"array", kJsonArray},   {"string", kJsonString},   {"number", kJsonNumber | kJsonInteger},
          {"integer", kJsonInteger}};
      auto it = bits.find(name.get<std::string>());
      if (it == bits.end())
        fail(where, "unknown type '" + name.get<std::string>() +
                        "' (expected null, boolean, object, array, string, number or integer)");
      return it->second;
    };
    if (!type.is_array()) return one(type);
    uint8_t bits = 0;
    for (const Json& name : type) bits |= one(name);
    return bits;
  }

  // $ref and allOf-of-one become the node they point to; unions absorb nested unions.
  void resolve_aliases() {
    const size_t n = schema_.nodes_.size();
    auto final_of = [&](uint32_t id) {
      for (size_t steps = 0; id != kNoNode && node(id).kind == SchemaNode::Kind::Alias; ++steps) {
        if (steps > n) fail("", "a cycle of '$ref' / 'allOf' with no schema in it");
        id = node(id).alternatives[0];
      }
      return id;
    };
    for (size_t i = 0; i < n; ++i) {
      SchemaNode& s = node(static_cast<uint32_t>(i));
      if (s.kind == SchemaNode::Kind::Alias) continue;
      for (auto& p : s.properties) p.node = final_of(p.node);
      for (auto& p : s.prefix_items) p = final_of(p);
      for (auto& a : s.alternatives) a = final_of(a);
      s.additional = final_of(s.additional);
      s.items = final_of(s.items);
    }
    for (auto& p : pending_literals_) p.rest = final_of(p.rest);
    schema_.root_ = final_of(schema_.root_);
    for (size_t i = 0; i < n; ++i) {
      if (node(static_cast<uint32_t>(i)).kind != SchemaNode::Kind::Union) continue;
      std::vector<uint32_t> flat;
      std::set<uint32_t> seen = {static_cast<uint32_t>(i)};
      flatten(static_cast<uint32_t>(i), flat, seen);
      node(static_cast<uint32_t>(i)).alternatives = std::move(flat);
    }
  }

  // A union that contains itself adds nothing by it (the least fixed point), so visited
  // unions are skipped.
  void flatten(uint32_t id, std::vector<uint32_t>& out, std::set<uint32_t>& seen) {
    for (uint32_t alt : std::vector<uint32_t>(node(id).alternatives)) {
      if (node(alt).kind == SchemaNode::Kind::Union) {
        if (seen.insert(alt).second) flatten(alt, out, seen);
      } else if (std::find(out.begin(), out.end(), alt) == out.end()) {
        out.push_back(alt);
      }
    }
  }

  // min_depth of every node, from "unsatisfiable" down to the fixed point.
  void compute_depths() {
    for (auto& s : schema_.nodes_) s.min_depth = s.object_depth = s.array_depth = kUnbounded;
    for (bool changed = true; changed;) {
      changed = false;
      for (auto& s : schema_.nodes_) {
        const uint32_t before = s.min_depth;
        depth_of(s);
        changed |= s.min_depth != before;
      }
    }
  }

  uint32_t md(uint32_t id) { return id == kNoNode ? kUnbounded : node(id).min_depth; }

  void depth_of(SchemaNode& s) {
    switch (s.kind) {
      case SchemaNode::Kind::Alias: return;
      case SchemaNode::Kind::Literals:
        s.min_depth = s.literals.empty() ? kUnbounded : 1;
        return;
      case SchemaNode::Kind::Union: {
        uint32_t best = kUnbounded;
        for (uint32_t a : s.alternatives) best = std::min(best, md(a));
        s.min_depth = best;
        return;
      }
      case SchemaNode::Kind::Values: break;
    }
    uint32_t best = kUnbounded;
    if (s.types & (kJsonNull | kJsonBoolean | kJsonNumber | kJsonInteger)) best = 1;
    if ((s.types & kJsonString) && s.min_length <= s.max_length) best = 1;
    if (s.types & kJsonObject) {
      uint32_t need = 1;
      for (size_t i = 0; i < s.properties.size(); ++i)
        if ((s.required >> i) & 1) need = std::max(need, add_depth(1, md(s.properties[i].node)));
      s.object_depth = need;
      best = std::min(best, need);
    }
    if (s.types & kJsonArray) {
      uint32_t need = s.min_items <= s.max_items ? 1 : kUnbounded;
      const size_t distinct = std::min<size_t>(s.min_items, s.prefix_items.size() + 1);
      for (size_t i = 0; i < distinct; ++i)
        need = std::max(need, add_depth(1, md(s.item_node(static_cast<uint32_t>(i)))));
      s.array_depth = need;
      best = std::min(best, need);
    }
    s.min_depth = best;
  }

  // Keeps the enum / const values that satisfy the rest of their schema, as the recognizer
  // reads them; repeated until nothing changes, as literals may nest inside other literals'
  // schemas.
  void filter_literals() {
    for (bool changed = !pending_literals_.empty(); changed;) {
      changed = false;
      for (const auto& p : pending_literals_) {
        std::vector<std::string>& texts = node(p.literals).literals;
        std::vector<std::string> kept;
        for (const std::string& text : texts) {
          JsonKeyLog log;
          JsonRecognizer r(schema_, log, p.rest);
          if (r.feed(text) && r.complete()) kept.push_back(text);
        }
        if (kept.size() != texts.size()) {
          texts = std::move(kept);
          changed = true;
        }
      }
      if (changed) compute_depths();
    }
  }

  struct PendingLiterals {
    uint32_t literals;
    uint32_t rest;
  };
  const Json& document_;
  JsonSchema schema_;
  std::map<std::string, uint32_t> at_pointer_;
  std::vector<PendingLiterals> pending_literals_;
  uint32_t any_ = kNoNode;
  uint32_t never_ = kNoNode;
  int depth_ = 0;
};

JsonSchema JsonSchema::compile(const nlohmann::json& schema) {
  return JsonSchemaCompiler(schema).run();
}

const JsonSchema& JsonSchema::any_object() {
  static const JsonSchema schema = compile(Json{{"type", "object"}});
  return schema;
}

}  // namespace lmkit::server
