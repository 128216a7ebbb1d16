#include "journal/coding.h"

#include <string>

namespace ferry::coding {

void PutFixed32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutFixed64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutFixed64BE(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutVarint64(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutVarint32(std::string* out, uint32_t v) { PutVarint64(out, v); }

void PutBytes(std::string* out, std::string_view bytes) {
  PutVarint32(out, static_cast<uint32_t>(bytes.size()));
  out->append(bytes);
}

bool Decoder::Fail(const char* field, std::string_view what) {
  if (status_.ok()) {
    std::string msg(record_);
    msg += ": ";
    msg += field;
    msg += ' ';
    msg += what;
    msg += " at byte ";
    msg += std::to_string(pos_);
    msg += " of ";
    msg += std::to_string(input_.size());
    status_ = Status::Corruption(msg);
  }
  return false;
}

bool Decoder::GetRaw(size_t n, std::string_view* v, const char* field) {
  if (!ok()) return false;
  if (input_.size() - pos_ < n) return Fail(field, "truncated");
  *v = input_.substr(pos_, n);
  pos_ += n;
  return true;
}

bool Decoder::GetU8(uint8_t* v, const char* field) {
  std::string_view b;
  if (!GetRaw(1, &b, field)) return false;
  *v = static_cast<uint8_t>(b[0]);
  return true;
}

namespace {

// Assembles `n` bytes into an integer, least significant byte first.
uint64_t LittleEndian(std::string_view b) {
  uint64_t r = 0;
  for (size_t i = b.size(); i-- > 0;) r = (r << 8) | static_cast<uint8_t>(b[i]);
  return r;
}

}  // namespace

bool Decoder::GetFixed32(uint32_t* v, const char* field) {
  std::string_view b;
  if (!GetRaw(4, &b, field)) return false;
  *v = static_cast<uint32_t>(LittleEndian(b));
  return true;
}

bool Decoder::GetFixed64(uint64_t* v, const char* field) {
  std::string_view b;
  if (!GetRaw(8, &b, field)) return false;
  *v = LittleEndian(b);
  return true;
}

bool Decoder::GetFixed64BE(uint64_t* v, const char* field) {
  std::string_view b;
  if (!GetRaw(8, &b, field)) return false;
  uint64_t r = 0;
  for (int i = 0; i < 8; ++i) r = (r << 8) | static_cast<uint8_t>(b[i]);
  *v = r;
  return true;
}

bool Decoder::GetVarint64(uint64_t* v, const char* field) {
  if (!ok()) return false;
  uint64_t r = 0;
  for (int shift = 0; shift <= 63; shift += 7) {
    if (pos_ >= input_.size()) return Fail(field, "truncated varint");
    uint8_t byte = static_cast<uint8_t>(input_[pos_++]);
    if (shift == 63 && byte > 1) return Fail(field, "varint overflows 64 bits");
    r |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = r;
      return true;
    }
  }
  return Fail(field, "varint longer than 10 bytes");
}

bool Decoder::GetVarint32(uint32_t* v, const char* field) {
  uint64_t r = 0;
  if (!GetVarint64(&r, field)) return false;
  if (r > UINT32_MAX) return Fail(field, "varint overflows 32 bits");
  *v = static_cast<uint32_t>(r);
  return true;
}

bool Decoder::GetBytes(std::string_view* v, size_t max_len, const char* field) {
  uint32_t len = 0;
  if (!GetVarint32(&len, field)) return false;
  if (len > max_len) {
    return Fail(field, "length " + std::to_string(len) + " exceeds " + std::to_string(max_len));
  }
  return GetRaw(len, v, field);
}

bool Decoder::ExpectEnd() {
  if (!ok()) return false;
  if (pos_ != input_.size()) {
    return Fail("record", std::to_string(input_.size() - pos_) + " unexpected trailing bytes");
  }
  return true;
}

}  // namespace ferry::coding
