// A matching engine written the plain way, as the oracle for MatchingEngine:
// std::map of price levels with a std::deque FIFO each, linear searches, and
// FOK decided by running the match on a copy of the book. It implements the
// semantics documented in matching_engine.hpp and nothing clever.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "crossbook/matching_engine.hpp"

namespace naive {

using namespace crossbook;

struct NOrder {
  std::uint64_t id;
  std::uint64_t owner;
  Qty size;
};

struct Matcher {
  EngineConfig cfg;
  std::optional<Price> reference;
  std::map<Price, std::deque<NOrder>> book[3];  // [1] bids, [2] asks
  bool halted = false;
  std::set<std::uint64_t> killed;
  std::vector<std::pair<std::int64_t, Price>> trades;  // since the last resume
  std::optional<Price> last_trade;
  std::uint64_t trade_count = 0;
  bool traded = false;

  std::vector<Fill>* fills = nullptr;
  std::vector<Reject>* rejects = nullptr;

  // ---------------------------------------------------------------- helpers

  bool band_on() const { return cfg.band_bps > 0 && reference.has_value(); }
  Int128 band_offset() const { return Int128{*reference} * cfg.band_bps / 10000; }
  Price band_lo() const {
    return static_cast<Price>(std::max<Int128>(0, *reference - band_offset()));
  }
  Price band_hi() const {
    return static_cast<Price>(
        std::min<Int128>(std::numeric_limits<Price>::max(), *reference + band_offset()));
  }
  bool find(std::uint64_t id, std::uint8_t* side, Price* price, std::size_t* pos) {
    for (std::uint8_t s : {1, 2})
      for (auto& [p, q] : book[s])
        for (std::size_t i = 0; i < q.size(); ++i)
          if (q[i].id == id) {
            *side = s;
            *price = p;
            *pos = i;
            return true;
          }
    return false;
  }
  void remove(std::uint8_t s, Price p, std::size_t pos) {
    book[s][p].erase(book[s][p].begin() + static_cast<std::ptrdiff_t>(pos));
    if (book[s][p].empty()) book[s].erase(p);
  }
  bool reject(const OrderRequest& r, RejectReason why) {
    out(r.ts_ns, r.order_id, r.size, why);
    return false;
  }
  void out(std::int64_t ts, std::uint64_t id, Qty size, RejectReason why) {
    rejects->push_back(Reject{ts, id, size, static_cast<std::uint8_t>(why), {}});
  }
  // Best opposite level for a taker on side s, or nullptr.
  std::pair<const Price, std::deque<NOrder>>* best_opposite(std::uint8_t s) {
    auto& opp = book[3 - s];
    if (opp.empty()) return nullptr;
    return s == 1 ? &*opp.begin() : &*opp.rbegin();
  }
  static bool crosses(std::uint8_t s, Price limit, Price resting) {
    return s == 1 ? resting <= limit : resting >= limit;
  }
  // Whether `size` more fits in the level total at `p` once `leaving` has gone.
  bool room(std::uint8_t s, Price p, Qty size, Qty leaving) const {
    const auto it = book[s].find(p);
    if (it == book[s].end()) return true;
    Int128 total = -Int128{leaving};
    for (const auto& o : it->second) total += o.size;
    return total + size <= std::numeric_limits<Qty>::max();
  }
  std::optional<RejectReason> limits(bool market, Price price, Qty size) const {
    if (cfg.max_order_size > 0 && size > cfg.max_order_size) return RejectReason::MaxOrderSize;
    if (!market && band_on() && (price < band_lo() || price > band_hi()))
      return RejectReason::PriceBand;
    if (cfg.max_notional > 0) {
      if (!market && Int128{price} * size > cfg.max_notional) return RejectReason::MaxNotional;
      if (market && band_on() && Int128{band_hi()} * size > cfg.max_notional)
        return RejectReason::MaxNotional;
    }
    return std::nullopt;
  }

  // ---------------------------------------------------------------- matching

  // Returns the size traded; `remaining` is what is left of the taker.
  Qty match(std::uint64_t id, std::uint64_t owner, std::uint8_t s, Price limit, Qty& remaining,
            StpMode stp, std::int64_t ts) {
    Qty traded_size = 0;
    while (remaining > 0) {
      auto* lvl = best_opposite(s);
      if (!lvl || !crosses(s, limit, lvl->first)) break;
      const Price p = lvl->first;
      auto& q = lvl->second;
      NOrder& m = q.front();
      if (stp != StpMode::None && m.owner == owner) {
        if (stp == StpMode::CancelNewest) {
          out(ts, id, remaining, RejectReason::SelfTrade);
          remaining = 0;
        } else if (stp == StpMode::CancelOldest) {
          out(ts, m.id, m.size, RejectReason::SelfTrade);
          q.pop_front();
        } else if (stp == StpMode::CancelBoth) {
          out(ts, m.id, m.size, RejectReason::SelfTrade);
          q.pop_front();
          out(ts, id, remaining, RejectReason::SelfTrade);
          remaining = 0;
        } else {  // Decrement
          const Qty d = std::min(remaining, m.size);
          out(ts, m.id, d, RejectReason::SelfTrade);
          out(ts, id, d, RejectReason::SelfTrade);
          m.size -= d;
          remaining -= d;
          if (m.size == 0) q.pop_front();
        }
      } else {
        const Qty f = std::min(remaining, m.size);
        fills->push_back(Fill{ts, id, m.id, p, f, s, {}});
        trades.emplace_back(ts, p);
        last_trade = p;
        ++trade_count;
        traded = true;
        traded_size += f;
        m.size -= f;
        remaining -= f;
        if (m.size == 0) q.pop_front();
      }
      if (q.empty()) book[3 - s].erase(p);
    }
    return traded_size;
  }

  bool fok_fillable(std::uint64_t id, std::uint64_t owner, std::uint8_t s, Price limit, Qty size,
                    StpMode stp) {
    Matcher copy = *this;
    std::vector<Fill> f;
    std::vector<Reject> r;
    copy.fills = &f;
    copy.rejects = &r;
    Qty remaining = size;
    return copy.match(id, owner, s, limit, remaining, stp, 0) == size;
  }

  // ---------------------------------------------------------------- requests

  bool submit(const OrderRequest& r, std::vector<Fill>& f, std::vector<Reject>& rj) {
    fills = &f;
    rejects = &rj;
    traded = false;
    bool ok;
    if (r.type == 1 || r.type == 2)
      ok = submit_new(r);
    else if (r.type == 3)
      ok = cancel(r);
    else if (r.type == 4)
      ok = modify(r);
    else
      ok = reject(r, RejectReason::InvalidType);
    if (traded && cfg.halt_move_bps > 0) {
      Price lo = std::numeric_limits<Price>::max(), hi = 0;
      for (const auto& [ts, p] : trades) {
        if (ts < r.ts_ns - cfg.halt_window_ns) continue;
        lo = std::min(lo, p);
        hi = std::max(hi, p);
      }
      if (Int128{hi - lo} * 10000 > Int128{cfg.halt_move_bps} * lo) halted = true;
    }
    if (traded && cfg.reference_follows_trades) reference = last_trade;
    return ok;
  }

  bool submit_new(const OrderRequest& r) {
    if (halted) return reject(r, RejectReason::Halted);
    if (killed.count(r.owner)) return reject(r, RejectReason::KillSwitch);
    const bool market = r.type == 2;
    const bool post_only = r.flags & 1;
    if (r.side != 1 && r.side != 2) return reject(r, RejectReason::InvalidSide);
    if (r.tif < 1 || r.tif > 3) return reject(r, RejectReason::InvalidTif);
    if (r.stp > 5) return reject(r, RejectReason::InvalidStp);
    if ((r.flags & ~1) || (post_only && (market || r.tif != 1)))
      return reject(r, RejectReason::InvalidFlags);
    if (r.size <= 0) return reject(r, RejectReason::InvalidSize);
    if (!market && r.price < 0) return reject(r, RejectReason::InvalidPrice);
    if (auto why = limits(market, r.price, r.size)) return reject(r, *why);
    std::uint8_t s0;
    Price p0;
    std::size_t i0;
    if (find(r.order_id, &s0, &p0, &i0)) return reject(r, RejectReason::DuplicateOrderId);
    if (!market && !room(r.side, r.price, r.size, 0)) return reject(r, RejectReason::InvalidSize);
    Price limit = r.price;
    if (market)
      limit = r.side == 1 ? (band_on() ? band_hi() : std::numeric_limits<Price>::max())
                          : (band_on() ? band_lo() : std::numeric_limits<Price>::min());
    const StpMode stp = r.stp == 0 ? cfg.stp : static_cast<StpMode>(r.stp);
    auto* best = best_opposite(r.side);
    if (post_only && best && crosses(r.side, limit, best->first))
      return reject(r, RejectReason::PostOnlyWouldTake);
    if (r.tif == 3 && !fok_fillable(r.order_id, r.owner, r.side, limit, r.size, stp))
      return reject(r, RejectReason::FokNotFillable);
    Qty remaining = r.size;
    match(r.order_id, r.owner, r.side, limit, remaining, stp, r.ts_ns);
    if (remaining == 0) return true;
    if (!market && r.tif == 1) {
      book[r.side][limit].push_back({r.order_id, r.owner, remaining});
      return true;
    }
    const bool band_stop = market && !book[3 - r.side].empty();
    out(r.ts_ns, r.order_id, remaining,
        band_stop ? RejectReason::PriceBand : RejectReason::Expired);
    return true;
  }

  bool cancel(const OrderRequest& r) {
    std::uint8_t s;
    Price p;
    std::size_t i;
    if (!find(r.order_id, &s, &p, &i)) return reject(r, RejectReason::UnknownOrder);
    NOrder& o = book[s][p][i];
    if (o.owner != r.owner) return reject(r, RejectReason::OwnerMismatch);
    if (r.size < 0) return reject(r, RejectReason::InvalidSize);
    if (r.size == 0 || r.size >= o.size)
      remove(s, p, i);
    else
      o.size -= r.size;
    return true;
  }

  bool modify(const OrderRequest& r) {
    if (halted) return reject(r, RejectReason::Halted);
    std::uint8_t s;
    Price p;
    std::size_t i;
    if (!find(r.order_id, &s, &p, &i)) return reject(r, RejectReason::UnknownOrder);
    NOrder o = book[s][p][i];
    if (o.owner != r.owner) return reject(r, RejectReason::OwnerMismatch);
    if (r.stp > 5) return reject(r, RejectReason::InvalidStp);
    if (r.flags & ~1) return reject(r, RejectReason::InvalidFlags);
    if (r.size <= 0) return reject(r, RejectReason::InvalidSize);
    if (r.price < 0) return reject(r, RejectReason::InvalidPrice);
    if (auto why = limits(false, r.price, r.size)) return reject(r, *why);
    if (r.price == p && r.size <= o.size) {
      book[s][p][i].size = r.size;
      return true;
    }
    if (!room(s, r.price, r.size, r.price == p ? o.size : 0))
      return reject(r, RejectReason::InvalidSize);
    auto* best = best_opposite(s);
    const bool takes = best && crosses(s, r.price, best->first);
    if (takes && (r.flags & 1)) return reject(r, RejectReason::PostOnlyWouldTake);
    remove(s, p, i);
    Qty remaining = r.size;
    if (takes) {
      const StpMode stp = r.stp == 0 ? cfg.stp : static_cast<StpMode>(r.stp);
      match(r.order_id, o.owner, s, r.price, remaining, stp, r.ts_ns);
    }
    if (remaining > 0) book[s][r.price].push_back({r.order_id, o.owner, remaining});
    return true;
  }

  std::size_t kill(std::uint64_t owner, std::int64_t ts, std::vector<Reject>& rj) {
    killed.insert(owner);
    std::vector<NOrder> gone;
    for (auto it = book[1].rbegin(); it != book[1].rend(); ++it)
      for (const auto& o : it->second)
        if (o.owner == owner) gone.push_back(o);
    for (const auto& [p, q] : book[2])
      for (const auto& o : q)
        if (o.owner == owner) gone.push_back(o);
    for (const auto& o : gone) {
      const auto why = static_cast<std::uint8_t>(RejectReason::KillSwitch);
      rj.push_back(Reject{ts, o.id, o.size, why, {}});
      std::uint8_t s;
      Price p;
      std::size_t i;
      find(o.id, &s, &p, &i);
      remove(s, p, i);
    }
    return gone.size();
  }

  void resume() {
    halted = false;
    trades.clear();
  }
};

}  // namespace naive
