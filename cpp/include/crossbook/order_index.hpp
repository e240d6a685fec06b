// Order id -> pool slot: a flat open-addressing table with linear probing and
// backward-shift deletion (no tombstones, so heavy add/cancel churn never
// degrades probes or forces a rehash).
//
// The load factor stays <= 1/2: short clusters keep probes and backward shifts
// within a cache line or two, and at 2^k orders the table would double
// anyway, so the memory per order is the same as with a fuller table there.
//
// An entry is one uint64: the top 32 bits of the id's hash, then the slot. The
// hash bits give the home bucket without touching the pool, so growing and
// backward shifts stay inside the table, and a probe compares hash bits before
// it reads the pool to confirm the id.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace crossbook::detail {

inline constexpr std::uint32_t kNil = 0xFFFFFFFFu;

class OrderIndex {
 public:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};

  OrderIndex() : table_(kMinCapacity, kEmpty), bits_(kMinBits) {}

  std::size_t size() const { return count_; }
  std::size_t capacity() const { return table_.size(); }
  std::size_t memory_bytes() const { return table_.capacity() * sizeof(std::uint64_t); }

  static constexpr std::size_t kNoBucket = ~std::size_t{0};

  /// Bucket holding `id`, or kNoBucket. `id_of(slot)` reads the id stored in
  /// the pool. O(1) expected (load factor <= 1/2).
  template <class IdOf>
  std::size_t find_bucket(std::uint64_t id, IdOf&& id_of) const {
    const std::uint32_t frag = hash_bits(id);
    for (std::size_t i = home(frag);; i = (i + 1) & mask()) {
      const std::uint64_t e = table_[i];
      if (e == kEmpty) return kNoBucket;
      if (static_cast<std::uint32_t>(e >> 32) == frag && id_of(slot_of(e)) == id) return i;
    }
  }
  std::uint32_t slot_at(std::size_t bucket) const { return slot_of(table_[bucket]); }

  /// Starts loading the home bucket of `id`: batch loops call it one item
  /// ahead, so that the table's cache miss overlaps the current item's work.
  void prefetch(std::uint64_t id) const {
    std::size_t i = home(hash_bits(id));
    // GCC 12 silently drops a prefetch whose address comes from this hash;
    // the empty asm makes the index opaque so the prefetch is kept.
    asm volatile("" : "+r"(i));
    __builtin_prefetch(table_.data() + i);
  }

  /// Slot of `id`, or kNil.
  template <class IdOf>
  std::uint32_t find(std::uint64_t id, IdOf&& id_of) const {
    const std::size_t b = find_bucket(id, id_of);
    return b == kNoBucket ? kNil : slot_at(b);
  }

  /// Bucket where `id` would go (the table grows first if needed), and the
  /// slot already holding `id` or kNil. Pass the bucket to put() unchanged
  /// when nothing else touched the table in between.
  template <class IdOf>
  std::uint32_t find_for_insert(std::uint64_t id, IdOf&& id_of, std::size_t* bucket) {
    if ((count_ + 1) * 2 > table_.size()) grow();
    const std::uint32_t frag = hash_bits(id);
    for (std::size_t i = home(frag);; i = (i + 1) & mask()) {
      const std::uint64_t e = table_[i];
      if (e == kEmpty) {
        *bucket = i;
        return kNil;
      }
      if (static_cast<std::uint32_t>(e >> 32) == frag && id_of(slot_of(e)) == id) return slot_of(e);
    }
  }

  void put(std::size_t bucket, std::uint64_t id, std::uint32_t slot) {
    table_[bucket] = (std::uint64_t{hash_bits(id)} << 32) | slot;
    ++count_;
  }

  /// Removes the entry of `id`, which must be present and map to `slot`.
  void erase(std::uint64_t id, std::uint32_t slot) {
    std::size_t i = home(hash_bits(id));
    while (slot_of(table_[i]) != slot) i = (i + 1) & mask();
    erase_at(i);
  }

  /// Removes the entry in `bucket` (from find_bucket, nothing changed since).
  void erase_at(std::size_t i) {
    // Backward shift: pull later entries of the cluster into the hole unless
    // that would move one before its home bucket.
    for (std::size_t j = (i + 1) & mask();; j = (j + 1) & mask()) {
      const std::uint64_t e = table_[j];
      if (e == kEmpty) break;
      const std::size_t h = home(static_cast<std::uint32_t>(e >> 32));
      if (((j - h) & mask()) >= ((j - i) & mask())) {
        table_[i] = e;
        i = j;
      }
    }
    table_[i] = kEmpty;
    --count_;
  }

  void clear() {
    std::fill(table_.begin(), table_.end(), kEmpty);
    count_ = 0;
  }

  /// Grows so that `n` ids fit without another rehash.
  void reserve(std::size_t n) {
    while (n * 2 > table_.size()) grow();
  }

  /// Visits every (slot) entry; for invariant checks.
  template <class Visit>
  void for_each_slot(Visit&& visit) const {
    for (std::uint64_t e : table_)
      if (e != kEmpty) visit(slot_of(e));
  }

  /// True when every entry sits in its home cluster (no empty bucket between).
  bool probe_chains_ok() const {
    for (std::size_t i = 0; i < table_.size(); ++i) {
      if (table_[i] == kEmpty) continue;
      for (std::size_t k = home(static_cast<std::uint32_t>(table_[i] >> 32)); k != i;
           k = (k + 1) & mask())
        if (table_[k] == kEmpty) return false;
    }
    return true;
  }

  static std::uint32_t hash_bits(std::uint64_t x) {
    // murmur3's 64-bit finaliser: venue ids are often sequential or strided.
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return static_cast<std::uint32_t>(x >> 32);
  }

 private:
  static constexpr unsigned kMinBits = 4;
  static constexpr std::size_t kMinCapacity = std::size_t{1} << kMinBits;

  static std::uint32_t slot_of(std::uint64_t e) { return static_cast<std::uint32_t>(e); }
  std::size_t mask() const { return table_.size() - 1; }
  std::size_t home(std::uint32_t frag) const { return frag >> (32 - bits_); }

  void grow() {
    std::vector<std::uint64_t> old(table_.size() * 2, kEmpty);
    old.swap(table_);
    ++bits_;
    for (std::uint64_t e : old) {
      if (e == kEmpty) continue;
      std::size_t i = home(static_cast<std::uint32_t>(e >> 32));
      while (table_[i] != kEmpty) i = (i + 1) & mask();
      table_[i] = e;
    }
  }

  std::vector<std::uint64_t> table_;
  unsigned bits_;
  std::size_t count_ = 0;
};

}  // namespace crossbook::detail
