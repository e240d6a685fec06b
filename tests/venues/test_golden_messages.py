"""Golden tests on the content of every parsed quote, trade and status message.

Each case is one real frame from ../shared/data/captures (line number given), or,
for a venue or channel with no recording, the documented frame from the venue
module's docstring / venues.md. The expected values were written by reading the
frame, not by running the parser: prices and sizes as the decimal text on the
wire, compared by value at the exponents the parser chose for the instrument;
sides from the venue's documented convention; exchange timestamps from the
frame's own field, in nanoseconds. Frames are copied here so the tests run
without the shared data; list frames too long to copy are read from the capture
(skipping when it is absent) and checked row by row against the json module's
reading of the documented layout.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.venues._golden import _NS_PER_MS, A, B, Case, Q, St, T, capture_line, iso_ns, run

MS = _NS_PER_MS
_SPOT24 = "binance/spot_btcusdt_20240808"

CASES: list[Case] = [
    # -- Binance: bookTicker b/B a/A and u; trade p q t T, m = "the buyer is the maker" --------
    Case("binance", b'{"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT",'
         b'"b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}',
         (Q("BTCUSDT", "61837.63", "3.78826", "61837.64", "1.54698", 50093239212, None),),
         source=f"{_SPOT24}:3"),
    Case("binance", b'{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,'
         b'"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000",'
         b'"T":1723161255342,"m":true,"M":true}}',
         (T("BTCUSDT", "61837.63", "0.02", A, "3735683259", 1723161255342 * MS),),
         source=f"{_SPOT24}:4"),
    Case("binance", b'{"stream":"nknusdt@aggTrade","data":{"e":"aggTrade","E":1633998523963,'
         b'"s":"NKNUSDT","a":15683430,"p":"0.35280000","q":"58.00000000","f":19862790,'
         b'"l":19862790,"T":1633998523963,"m":false,"M":true}}',
         (St(None, False, ("nknusdt@aggTrade",)),), source="binance/binance_spot_2021:113"),
    Case("binance_usdm", b'{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker",'
         b'"u":5123107839020,"s":"BTCUSDT","b":"61800.20","B":"2.507","a":"61800.30",'
         b'"A":"2.510","T":1723161256313,"E":1723161256313}}',
         (Q("BTCUSDT", "61800.2", "2.507", "61800.3", "2.51", 5123107839020, 1723161256313 * MS),),
         source="binance/usdm_btcusdt_20240808:2"),
    Case("binance_usdm", b'{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161256322,'
         b'"T":1723161256322,"s":"BTCUSDT","t":5266583935,"p":"61800.30","q":"0.006",'
         b'"X":"MARKET","m":false}}',
         (T("BTCUSDT", "61800.3", "0.006", B, "5266583935", 1723161256322 * MS),),
         source="binance/usdm_btcusdt_20240808:3"),
    Case("binance_coinm", b'{"stream":"btcusd_perp@bookTicker","data":{"u":1007198632021,'
         b'"e":"bookTicker","s":"BTCUSD_PERP","ps":"BTCUSD","b":"61804.7","B":"35",'
         b'"a":"61804.8","A":"1645","T":1723161257465,"E":1723161257476}}',
         (Q("BTCUSD_PERP", "61804.7", "35", "61804.8", "1645", 1007198632021,
            1723161257465 * MS),), source="binance/cm_btcusd_perp_20240808:4"),
    Case("binance_coinm", b'{"stream":"btcusd_perp@trade","data":{"e":"trade","E":1723161262833,'
         b'"T":1723161262825,"s":"BTCUSD_PERP","t":849714409,"p":"61811.2","q":"4",'
         b'"X":"MARKET","m":true}}',
         (T("BTCUSD_PERP", "61811.2", "4", A, "849714409", 1723161262825 * MS),),
         source="binance/cm_btcusd_perp_20240808:637"),
    # -- Bitfinex: ticker [BID, BID_SIZE, ASK, ASK_SIZE, ...]; the SEQ_ALL number last is the
    #    connection's, not a book id, so the quote has no seq ------------------------------
    Case("bitfinex", b'[232949,[0.068965,60157.36709703,0.0774,48578.50804052,0.001969,0.0262,'
         b'0.076989,101459.39453471,0.0828,0.068961],1]',
         (Q("tBFTUSD", "0.068965", "60157.36709703", "0.0774", "48578.50804052", None, None),),
         setup=(b'{"event":"subscribed","channel":"ticker","chanId":232949,"symbol":"tBFTUSD",'
                b'"pair":"BFTUSD"}',), source="bitfinex/bitfinex_book_p0:26"),
    Case("bitfinex", b'{"event":"info","version":2,"serverId":"083bd8d4-aca7-4690-a573-'
         b'eabfc8103de8","platform":{"status":1}}',
         (St(None, False, ("v2",)),), source="bitfinex/bitfinex_book_p0:23"),
    # -- Bitget: trade rows [ts, price, size, side] ------------------------------------------
    Case("bitget", b'{"action":"update","arg":{"instType":"sp","channel":"trade",'
         b'"instId":"STGUSDT"},"data":[["1649290090204","2.879","3.104","buy"]]}',
         (T("STGUSDT", "2.879", "3.104", B, None, 1649290090204 * MS),),
         source="bitget/bitget_spot:332", exps=(8, 8)),
    Case("bitget", b'{"event":"subscribe","arg":{"instType":"sp","channel":"books",'
         b'"instId":"EOSUSDT"}}',
         (St("EOSUSDT", False, ("subscribe", "books")),), source="bitget/bitget_spot:6"),
    # -- BitMEX: quote bidSize/bidPrice/askPrice/askSize; trade side is the taker's -----------
    Case("bitmex", b'{"table":"quote","action":"insert","data":[{"timestamp":'
         b'"2021-07-22T22:36:11.237Z","symbol":"BCHUSD","bidSize":440,"bidPrice":438.55,'
         b'"askPrice":438.6,"askSize":856}]}',
         (Q("BCHUSD", "438.55", "440", "438.6", "856", None, iso_ns("2021-07-22T22:36:11.237Z")),),
         source="bitmex/bitmex_l2:404", exps=(8, 8)),
    Case("bitmex", b'{"table":"trade","action":"insert","data":[{"timestamp":'
         b'"2021-07-22T22:36:32.194Z","symbol":"XBTUSD","side":"Buy","size":100,"price":32184,'
         b'"tickDirection":"PlusTick","trdMatchID":"0ddc259b-355e-9a79-002b-aed7e089f69a",'
         b'"grossValue":310713,"homeNotional":0.00310713,"foreignNotional":100}]}',
         (T("XBTUSD", "32184", "100", B, "0ddc259b-355e-9a79-002b-aed7e089f69a",
            iso_ns("2021-07-22T22:36:32.194Z")),), source="bitmex/bitmex_l2:1644", exps=(8, 8)),
    Case("bitmex", b'{"info":"Welcome to the BitMEX Realtime API.","version":'
         b'"2021-07-14T01:26:29.000Z","timestamp":"2021-07-22T22:36:07.865Z","docs":'
         b'"https://www.bitmex.com/app/wsAPI","limit":{"remaining":39}}',
         (St(None, False, ("Welcome",)),), source="bitmex/bitmex_l2:4"),
    # -- Bitstamp: *_str fields, type 0 = buy, microtimestamp --------------------------------
    Case("bitstamp", b'{"data":{"id":216000477,"timestamp":"1641343699","amount":0.0792,'
         b'"amount_str":"0.07920000","price":3805.44,"price_str":"3805.44","type":0,'
         b'"microtimestamp":"1641343699596000","buy_order_id":1443875737346049,'
         b'"sell_order_id":1443875731320832},"channel":"live_trades_ethusd","event":"trade"}',
         (T("ethusd", "3805.44", "0.0792", B, "216000477", 1641343699596000 * 1_000),),
         source="bitstamp/bitstamp_diff:229"),
    Case("bitstamp", b'{"data":{"id":216000500,"timestamp":"1641343721","amount":0.6,'
         b'"amount_str":"0.60000000","price":3800.75,"price_str":"3800.75","type":1,'
         b'"microtimestamp":"1641343721243000","buy_order_id":1443875825774594,'
         b'"sell_order_id":1443875826016256},"channel":"live_trades_ethusd","event":"trade"}',
         (T("ethusd", "3800.75", "0.6", A, "216000500", 1641343721243000 * 1_000),),
         source="bitstamp/bitstamp_diff:755"),
    Case("bitstamp", b'{"event":"bts:subscription_succeeded","channel":"diff_order_book_sgbeur",'
         b'"data":{}}', (St(None, False, ("subscription_succeeded", "diff_order_book_sgbeur")),),
         source="bitstamp/bitstamp_diff:31"),
    # -- Bybit legacy: trade side is the taker's; trade_time_ms ------------------------------
    Case("bybit_legacy", b'{"topic":"trade.LTCUSDT","data":[{"symbol":"LTCUSDT","tick_direction":'
         b'"PlusTick","price":"313.45","size":1,"timestamp":"2021-04-17T16:43:19.000Z",'
         b'"trade_time_ms":"1618677799740","side":"Buy","trade_id":'
         b'"44e339b4-6bac-519d-a8f8-fd5185fc2a46"}]}',
         (T("LTCUSDT", "313.45", "1", B, "44e339b4-6bac-519d-a8f8-fd5185fc2a46",
            1618677799740 * MS),), source="bybit/bybit_legacy_l2_25_a:1734"),
    Case("bybit_legacy", b'{"topic":"trade.EOSUSD","data":[{"trade_time_ms":1618677790644,'
         b'"timestamp":"2021-04-17T16:43:10.000Z","symbol":"EOSUSD","side":"Buy","size":1,'
         b'"price":7.972,"tick_direction":"PlusTick","trade_id":'
         b'"771435e4-8f53-5052-ae43-d5b16cc4cbb1","cross_seq":1225777466}]}',
         (T("EOSUSD", "7.972", "1", B, "771435e4-8f53-5052-ae43-d5b16cc4cbb1",
            1618677790644 * MS),), source="bybit/bybit_legacy_l2_25_b:254"),
    Case("bybit_legacy", b'{"success":true,"ret_msg":"","conn_id":"38cf0ac3-af67-483c-9bbc-'
         b'b57d45910ecb","request":{"op":"subscribe","args":["trade.BCHUSDT"]}}',
         (St(None, False, ("subscribe",)),), source="bybit/bybit_legacy_l2_25_a:19"),
    # -- Bybit v5 (no recording: the module's documented sample) -----------------------------
    Case("bybit", b'{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,'
         b'"data":[{"T":1672304486865,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50",'
         b'"L":"PlusTick","i":"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false}]}',
         (T("BTCUSDT", "16578.5", "0.001", B, "20f43950-d8dd-5b31-9112-a178eb6023af",
            1672304486865 * MS),), source="doc"),
    # -- Coinbase Exchange: a match's side is the maker's ------------------------------------
    Case("coinbase", b'{"type":"match","trade_id":1568286,"maker_order_id":"67f40214-8c2a-'
         b'4049-88c2-7b71cea8e4e4","taker_order_id":"741a1fea-cb9a-48f5-a6a4-65cbba50dcb4",'
         b'"side":"buy","size":"17","price":"0.791","product_id":"SKL-USD","sequence":201392504,'
         b'"time":"2021-04-17T16:43:59.325463Z"}',
         (T("SKL-USD", "0.791", "17", A, "1568286", iso_ns("2021-04-17T16:43:59.325463Z")),),
         source="coinbase/coinbase:4201"),
    Case("coinbase", b'{"type":"subscriptions","channels":[{"name":"level2","product_ids":'
         b'["BAND-GBP","SKL-USD"]}]}', (St(None, False, ("level2",)),),
         source="coinbase/coinbase:4"),
    # -- Coinbase Advanced Trade (documented samples): market_trades side is not settled as
    #    the taker's or the maker's in the sources (module doc), so no aggressor ----------
    Case("coinbase_advanced", b'{"channel":"market_trades","client_id":"","timestamp":'
         b'"2026-04-07T14:30:02.000000001Z","sequence_num":5,"events":[{"type":"update",'
         b'"trades":[{"trade_id":"995098700","product_id":"BTC-USD","price":"68900.50",'
         b'"size":"0.00150000","side":"BUY","time":"2026-04-07T14:30:01.987654321Z"}]}]}',
         (T("BTC-USD", "68900.5", "0.0015", None, "995098700",
            iso_ns("2026-04-07T14:30:01.987654321Z")),), source="doc", exps=(8, 8)),
    Case("coinbase_advanced", b'{"type":"error","message":"failure to subscribe"}',
         (St(None, True, ("failure to subscribe",)),), source="doc"),
    # -- Deribit: ticker best_bid_price/amount; trades direction is the taker's --------------
    Case("deribit", b'{"jsonrpc":"2.0","method":"subscription","params":{"channel":'
         b'"ticker.ETH-30JUL21-2800-C.raw","data":{"underlying_price":2003.61,'
         b'"underlying_index":"ETH-30JUL21","timestamp":1626993723632,"stats":{"volume":869.0,'
         b'"price_change":0.0,"low":0.0015,"high":0.0025},"state":"open","settlement_price":0.0,'
         b'"open_interest":12685.0,"min_price":0.0001,"max_price":0.025,"mark_price":0.001972,'
         b'"mark_iv":120.74,"last_price":0.002,"interest_rate":0.0,"instrument_name":'
         b'"ETH-30JUL21-2800-C","index_price":2006.72,"greeks":{"vega":0.20072,'
         b'"theta":-1.64029,"rho":0.01188,"gamma":0.0002,"delta":0.03127},'
         b'"estimated_delivery_price":2006.72,"bid_iv":115.62,"best_bid_price":0.0015,'
         b'"best_bid_amount":4714.0,"best_ask_price":0.0025,"best_ask_amount":873.0,'
         b'"ask_iv":125.63}}}',
         (Q("ETH-30JUL21-2800-C", "0.0015", "4714", "0.0025", "873", None,
            1626993723632 * MS),), source="deribit/deribit_options:3"),
    Case("deribit", b'{"jsonrpc":"2.0","method":"subscription","params":{"channel":'
         b'"trades.BTC-PERPETUAL.raw","data":[{"trade_id":"48079254","price":5042.5,'
         b'"amount":40.0,"direction":"buy","instrument_name":"BTC-PERPETUAL",'
         b'"timestamp":1590484156350}]}}',
         (T("BTC-PERPETUAL", "5042.5", "40", B, "48079254", 1590484156350 * MS),), source="doc"),
    Case("deribit", b'{"jsonrpc":"2.0","id":7,"error":{"code":11050,"message":"bad_request"}}',
         (St(None, True, ("11050", "bad_request")),), source="doc"),
    # -- dYdX v3 -----------------------------------------------------------------------------
    Case("dydx_v3", b'{"type":"channel_data","connection_id":"60a4fc71-1312-4830-86f4-'
         b'9eb98be106ac","message_id":972,"id":"ETH-USD","channel":"v3_trades","contents":'
         b'{"trades":[{"size":"0.1","side":"BUY","price":"4216","createdAt":'
         b'"2021-10-28T18:03:55.921Z"}]}}',
         (T("ETH-USD", "4216", "0.1", B, None, iso_ns("2021-10-28T18:03:55.921Z")),),
         source="dydx/dydx_v3_orderbook:993"),
    Case("dydx_v3", b'{"type":"connected","connection_id":"60a4fc71-1312-4830-86f4-'
         b'9eb98be106ac","message_id":0}', (St(None, False, ("connected",)),),
         source="dydx/dydx_v3_orderbook:21"),
    # -- Gate.io: create_time_ms carries a fraction of a millisecond -------------------------
    Case("gateio", b'{"time":1619093546,"channel":"spot.trades","event":"update","result":'
         b'{"id":816995970,"create_time":1619093546,"create_time_ms":"1619093546958.116",'
         b'"side":"buy","currency_pair":"NEO_BTC","amount":"0.5000000000",'
         b'"price":"0.0018735000"}}',
         (T("NEO_BTC", "0.0018735", "0.5", B, "816995970", 1619093546958116000),),
         source="gateio/gateio_spot:140", exps=(8, 8)),
    Case("gateio", b'{"time":1619093532,"channel":"spot.trades","event":"subscribe",'
         b'"result":{"status":"success"}}', (St(None, False, ("spot.trades", "subscribe")),),
         source="gateio/gateio_spot:23"),
    # -- Gemini v2 ---------------------------------------------------------------------------
    Case("gemini", b'{"type":"trade","symbol":"FILUSD","event_id":45465842999,'
         b'"timestamp":1624493681030,"price":"58.4998","quantity":"15.4053","side":"buy"}',
         (T("FILUSD", "58.4998", "15.4053", B, "45465842999", 1624493681030 * MS),),
         source="gemini/gemini_l2:245"),
    Case("gemini", b'{"type":"heartbeat","timestamp":1624493666869}',
         (St(None, False, ("heartbeat",)),), source="gemini/gemini_l2:15"),
    # -- Huobi spot and coin-margined swap ---------------------------------------------------
    Case("huobi", b'{"ch":"market.yfihusd.trade.detail","ts":1618678079712,"tick":'
         b'{"id":181648752,"ts":1618678079699,"data":[{"id":181648752255757425015366,'
         b'"ts":1618678079699,"tradeId":179336,"amount":5.0E-4,"price":50171.57,'
         b'"direction":"buy"}]}}',
         (T("yfihusd", "50171.57", "0.0005", B, "179336", 1618678079699 * MS),),
         source="huobi/huobi_depth:169", exps=(8, 8)),
    Case("huobi", b'{"id":1,"status":"ok","subbed":"market.trioeth.depth.step0",'
         b'"ts":1618678070653}', (St(None, False, ("ok", "market.trioeth.depth.step0")),),
         source="huobi/huobi_depth:21"),
    Case("huobi_swap", b'{"ch":"market.SHIB-USD.trade.detail","ts":1645289402282,"tick":'
         b'{"id":74377478207,"ts":1645289402274,"data":[{"amount":50,"quantity":'
         b'17979144.1927364257461344839985616684645810859,"ts":1645289402274,'
         b'"id":743774782070000,"price":0.00002781,"direction":"sell"}]}}',
         (T("SHIB-USD", "0.00002781", "50", A, "743774782070000", 1645289402274 * MS),),
         source="huobi/huobi_swap_depth:810", exps=(8, 8)),
    Case("huobi_swap", b'{"ch":"market.ATOM-USD.trade.detail","ts":1645289382234,"tick":'
         b'{"id":74377471712,"ts":1645289382216,"data":[{"amount":6,"quantity":'
         b'2.2569881997133624986364029626731768237,"ts":1645289382216,"id":743774717120000,'
         b'"price":26.5841,"direction":"buy"}]}}',
         (T("ATOM-USD", "26.5841", "6", B, "743774717120000", 1645289382216 * MS),),
         source="huobi/huobi_swap_depth:11", exps=(8, 8)),
    # -- Hyperliquid -------------------------------------------------------------------------
    Case("hyperliquid", b'{"channel":"trades","data":[{"coin":"BTC","hash":"0x00000000000000000'
         b'00000000000000000000000000000000000000000000000","px":"105056.0","side":"B",'
         b'"sz":"0.02222","tid":917211710228416,"time":1737918847000,"users":["0x8a43b5424eb0'
         b'6a3e79bc6036c8cae55417fada0e","0x6802b4267f7f2bf7003dcf993c51542245b38329"]}]}',
         (T("BTC", "105056", "0.02222", B, "917211710228416", 1737918847000 * MS),),
         source="hyperliquid/hyperliquid_btcusd_20250126:10"),
    # -- Kraken v1: ticker a/b = [price, whole lot volume, lot volume]; spread = [bid, ask,
    #    timestamp, bid volume, ask volume]; trade = [price, volume, time, side, type, misc] --
    Case("kraken", b'[1668,{"a":["13.253900",35,"35.72892241"],"b":["13.232900",185,'
         b'"185.18432037"],"c":["13.253900","3.71672000"],"v":["26560.85364463",'
         b'"72035.05488104"],"p":["13.529003","13.734728"],"t":[640,1353],"l":["13.021800",'
         b'"13.021800"],"h":["13.942000","14.211200"],"o":["13.804000","13.428300"]},'
         b'"ticker","WAVES/EUR"]',
         (Q("WAVES/EUR", "13.2329", "185.18432037", "13.2539", "35.72892241", None, None),),
         source="kraken/kraken_ticker_v1_2021:8"),
    Case("kraken", b'[0,["5698.40000","5700.00000","1542057299.545897","1.01234567",'
         b'"0.98765432"],"spread","XBT/USD"]',
         (Q("XBT/USD", "5698.4", "1.01234567", "5700", "0.98765432", None,
            1542057299545897000),), source="doc"),
    Case("kraken", b'[1921,[["0.043030","1081.72663000","1618678157.908269","b","l",""]],'
         b'"trade","SC/EUR"]',
         (T("SC/EUR", "0.04303", "1081.72663", B, None, 1618678157908269000),),
         source="kraken/kraken_trade_v1_2021:38"),
    Case("kraken", b'[993,[["354.11000000","0.89594024","1618678142.557535","s","l",""]],'
         b'"trade","XMR/USD"]',
         (T("XMR/USD", "354.11", "0.89594024", A, None, 1618678142557535000),),
         source="kraken/kraken_trade_v1_2021:17"),
    Case("kraken", b'{"connectionID":17843232920108168701,"event":"systemStatus",'
         b'"status":"online","version":"1.8.3"}', (St(None, False, ("online",)),),
         source="kraken/kraken_book_v1_2021:2"),
    # -- Kraken v2 (documented samples) ------------------------------------------------------
    Case("kraken_v2", b'{"channel":"trade","type":"update","data":[{"symbol":"MATIC/USD",'
         b'"side":"sell","price":0.5117,"qty":40.0,"ord_type":"market","trade_id":4665906,'
         b'"timestamp":"2023-09-25T07:49:37.708706Z"}]}',
         (T("MATIC/USD", "0.5117", "40", A, "4665906", iso_ns("2023-09-25T07:49:37.708706Z")),),
         source="doc"),
    Case("kraken_v2", b'{"channel":"ticker","type":"snapshot","data":[{"symbol":"ALGO/USD",'
         b'"bid":0.10025,"bid_qty":740.0,"ask":0.10036,"ask_qty":1361.44813783,"last":0.10035,'
         b'"volume":997038.98383185}]}',
         (Q("ALGO/USD", "0.10025", "740", "0.10036", "1361.44813783", None, None),),
         source="doc"),
    # -- Kraken Futures: trade side is the taker's -------------------------------------------
    Case("kraken_futures", b'{"feed":"trade","product_id":"PI_LTCUSD","uid":"e2429e31-8b9d-'
         b'4195-900e-fd42be2dec89","side":"buy","type":"fill","seq":5956,"time":1626994929946,'
         b'"qty":320.0,"price":119.44}',
         (T("PI_LTCUSD", "119.44", "320", B, "e2429e31-8b9d-4195-900e-fd42be2dec89",
            1626994929946 * MS),), source="kraken_futures/kraken_futures_book:576"),
    Case("kraken_futures", b'{"event":"info","version":1}', (St(None, False, ("info",)),),
         source="kraken_futures/kraken_futures_book:4"),
    # -- KuCoin: ticker bestBid/bestBidSize/bestAsk/bestAskSize, sequence, time (ms);
    #    l3match side is the taker's, time in ns -------------------------------------------
    Case("kucoin", b'{"data":{"sequence":"1613277184815","bestAsk":"243.051","size":'
         b'"0.14324938","bestBidSize":"5","price":"242.781","time":1619378338133,'
         b'"bestAskSize":"1","bestBid":"242.795"},"subject":"trade.ticker","topic":'
         b'"/market/ticker:BCHSV-USDT","type":"message"}',
         (Q("BCHSV-USDT", "242.795", "5", "243.051", "1", 1613277184815, 1619378338133 * MS),),
         source="kucoin/kucoin_level2:2187", exps=(8, 8)),
    Case("kucoin", b'{"data":{"symbol":"FET-BTC","sequence":"1612712745710","side":"buy",'
         b'"size":"12.2091","price":"0.00000776","takerOrderId":"6085c0a36ac0850006c4b00b",'
         b'"time":"1619378339919173052","type":"match","makerOrderId":'
         b'"6085c0a082ed340006c05dd9","tradeId":"6085c0a378577837f306b46e"},"subject":'
         b'"trade.l3match","topic":"/market/match:FET-BTC","type":"message"}',
         (T("FET-BTC", "0.00000776", "12.2091", B, "6085c0a378577837f306b46e",
            1619378339919173052),), source="kucoin/kucoin_level2:2496", exps=(8, 8)),
    Case("kucoin", b'{"id":"1","type":"ack"}', (St(None, False, ("ack",)),),
         source="kucoin/kucoin_level2:15"),
    # -- OKX: tickers bidPx/bidSz/askPx/askSz/ts; trades side is the taker's ----------------
    Case("okx", b'{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"instType":"SPOT",'
         b'"instId":"BTC-USDT","last":"30243.5","lastSz":"0.00684062","askPx":"30228.7",'
         b'"askSz":"1.55896972","bidPx":"30228.6","bidSz":"0.23393","open24h":"29700.4",'
         b'"high24h":"31073","low24h":"28020.3","sodUtc0":"29028.8","sodUtc8":"30337.7",'
         b'"volCcy24h":"525802333.80365708","vol24h":"17602.13889433","ts":"1652459226124"}]}',
         (Q("BTC-USDT", "30228.6", "0.23393", "30228.7", "1.55896972", None,
            1652459226124 * MS),), source="okx/okx:39", exps=(8, 8)),
    Case("okx", b'{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT",'
         b'"tradeId":"338476320","px":"30242","sz":"0.001","side":"buy","ts":"1652459227219"}]}',
         (T("BTC-USDT", "30242", "0.001", B, "338476320", 1652459227219 * MS),),
         source="okx/okx:70", exps=(8, 8)),
    Case("okx", b'{"event":"subscribe","arg":{"channel":"tickers","instId":"UNI-USD-SWAP"}}',
         (St("UNI-USD-SWAP", False, ("subscribe", "tickers")),), source="okx/okx:4"),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.venue}-{c.source}" for c in CASES])
def test_golden_message(case: Case) -> None:
    run(case)


def test_every_venue_with_quotes_trades_or_status_has_a_golden_case() -> None:
    covered = {c.venue for c in CASES}
    assert covered >= {
        "binance", "binance_usdm", "binance_coinm", "bitfinex", "bitget", "bitmex", "bitstamp",
        "bybit", "bybit_legacy", "coinbase", "coinbase_advanced", "deribit", "dydx_v3", "gateio",
        "gemini", "huobi", "huobi_swap", "hyperliquid", "kraken", "kraken_v2", "kraken_futures",
        "kucoin", "okx"}
    kinds = {(c.venue, type(w).__name__) for c in CASES for w in c.want}
    assert ("kraken", "Q") in kinds and ("kraken", "T") in kinds


# -- list frames, too long to copy: every row against the documented layout ---------------


def run_rows(venue: str, setup: list[bytes], frame: bytes, want: list[T],
             exps: tuple[int, int] | None = None) -> None:
    run(Case(venue, frame, tuple(want), tuple(setup), exps=exps))


def test_bitfinex_trade_snapshot_rows() -> None:
    # [CHAN_ID, [[ID, MTS, AMOUNT, PRICE], ...]]: AMOUNT > 0 the taker bought, < 0 sold.
    sub = capture_line("bitfinex/bitfinex_book_p0.cap.gz", 49)
    assert json.loads(sub)["chanId"] == 225158
    frame = capture_line("bitfinex/bitfinex_book_p0.cap.gz", 50)
    rows = json.loads(frame, parse_float=Decimal, parse_int=Decimal)[1]
    assert len(rows) > 10
    run_rows("bitfinex", [sub], frame, [
        T("tDOGUSD", str(price), str(abs(amount)), B if amount > 0 else A, str(tid),
          int(mts) * _NS_PER_MS) for tid, mts, amount, price in rows])


def test_bitget_trade_snapshot_rows() -> None:
    # data rows: [ts ms, price, size, side]; side is the taker's.
    frame = capture_line("bitget/bitget_spot.cap.gz", 35)
    rows = json.loads(frame)["data"]
    assert len(rows) > 10
    run_rows("bitget", [], frame, [
        T("CULTUSDT", p, q, B if s == "buy" else A, None, int(ts) * _NS_PER_MS)
        for ts, p, q, s in rows], exps=(8, 8))


def test_hyperliquid_trades_rows() -> None:
    # side "B": the taker bought (bid), "A": sold.
    frame = capture_line("hyperliquid/hyperliquid_btcusd_20250126.cap.gz", 3)
    rows = json.loads(frame)["data"]
    assert len(rows) > 1
    run_rows("hyperliquid", [], frame, [
        T(r["coin"], r["px"], r["sz"], B if r["side"] == "B" else A, str(r["tid"]),
          r["time"] * _NS_PER_MS) for r in rows])


def test_kraken_futures_trade_snapshot_rows() -> None:
    frame = capture_line("kraken_futures/kraken_futures_book.cap.gz", 37)
    rows = json.loads(frame, parse_float=Decimal)["trades"]
    assert len(rows) > 10
    run_rows("kraken_futures", [], frame, [
        T(r["product_id"], str(r["price"]), str(r["qty"]), B if r["side"] == "buy" else A,
          r["uid"], r["time"] * _NS_PER_MS) for r in rows])
