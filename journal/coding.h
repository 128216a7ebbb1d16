// Byte-level helpers for format.cc: append fixed-width and varint integers and
// length-prefixed strings, and a bounds-checked Decoder that never reads past
// its input. Internal to journal/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "base/status.h"

namespace ferry::coding {

void PutFixed32(std::string* out, uint32_t v);
void PutFixed64(std::string* out, uint64_t v);
void PutFixed64BE(std::string* out, uint64_t v);
void PutVarint32(std::string* out, uint32_t v);
void PutVarint64(std::string* out, uint64_t v);
void PutBytes(std::string* out, std::string_view bytes);  // varint32 length + bytes

// Reads a record front to back. Each Get* returns false once the input is
// exhausted or malformed; the first failure is kept and names the field and
// the byte offset, so callers check once at the end via status().
class Decoder {
 public:
  Decoder(std::string_view input, std::string record_name)
      : input_(input), record_(std::move(record_name)) {}

  bool GetU8(uint8_t* v, const char* field);
  bool GetFixed32(uint32_t* v, const char* field);
  bool GetFixed64(uint64_t* v, const char* field);
  bool GetFixed64BE(uint64_t* v, const char* field);
  bool GetVarint32(uint32_t* v, const char* field);
  bool GetVarint64(uint64_t* v, const char* field);
  // A length-prefixed string; fails when the length exceeds `max_len`.
  bool GetBytes(std::string_view* v, size_t max_len, const char* field);
  bool GetRaw(size_t n, std::string_view* v, const char* field);

  // Records a failure that the caller detected (a bad enum value, say).
  bool Fail(const char* field, std::string_view what);
  // Fails unless every byte was consumed.
  bool ExpectEnd();

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  size_t offset() const { return pos_; }

 private:
  std::string_view input_;
  std::string record_;  // owned: callers pass temporaries ("event " + seq)
  size_t pos_ = 0;
  Status status_;
};

}  // namespace ferry::coding
