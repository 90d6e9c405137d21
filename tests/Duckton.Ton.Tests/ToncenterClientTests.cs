using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Duckton.Core.Crypto;
using Duckton.Ton.Addresses;
using Duckton.Ton.Cells;
using Duckton.Ton.Rpc;
using Duckton.Ton.Wallets;
using Microsoft.Extensions.Logging;

namespace Duckton.Ton.Tests;

/// <summary>The toncenter client against a scripted (simulated) HTTP server: retries, rate limits, timeouts, garbage.</summary>
public class ToncenterClientTests
{
    private const string ApiKey = "secret-api-key-5f1d0c";
    private static readonly TonAddress s_account = new(0, Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());

    private sealed class CapturingLogger : ILogger
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Enqueue(formatter(state, exception) + " " + exception);
    }

    private static ToncenterOptions Fast(Uri endpoint, int attempts = 4, double timeoutSeconds = 5) => new(endpoint, ApiKey, attempts,
        TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(timeoutSeconds));

    [Fact]
    public async Task Rate_limits_are_retried_with_the_api_key_header_and_the_key_is_never_logged()
    {
        var calls = 0;
        await using var server = new ScriptedToncenter(_ => Interlocked.Increment(ref calls) <= 2
            ? new ScriptedToncenter.Reply(429, "{\"ok\":false,\"error\":\"Ratelimit exceed\",\"code\":429}")
            : ScriptedToncenter.Reply.Ok("\"1234567890\""));
        var logger = new CapturingLogger();
        using var client = new ToncenterClient(Fast(server.Endpoint), logger: logger);
        var balance = await client.GetAddressBalanceAsync(s_account);
        Assert.Equal(1_234_567_890UL, (ulong)balance.Nanoton);
        Assert.Equal(3, server.Requests.Count);
        Assert.All(server.Requests, r => Assert.Equal(ApiKey, r.Headers["X-API-Key"]));
        Assert.All(server.Requests, r => Assert.Equal("/api/v2/getAddressBalance", r.Path));
        Assert.Equal(2, logger.Lines.Count);
        Assert.All(logger.Lines, l => Assert.Contains("rate limited (HTTP 429)", l));
        Assert.All(logger.Lines, l => Assert.DoesNotContain(ApiKey, l));
        Assert.DoesNotContain(ApiKey, client.Options.ToString());
    }

    [Fact]
    public async Task Retry_after_of_a_429_is_honoured()
    {
        var calls = 0;
        await using var server = new ScriptedToncenter(_ => Interlocked.Increment(ref calls) == 1
            ? new ScriptedToncenter.Reply(429, "{\"ok\":false,\"error\":\"slow down\"}", false, ("Retry-After", "1"))
            : ScriptedToncenter.Reply.Ok("\"5\""));
        using var client = new ToncenterClient(Fast(server.Endpoint));
        var sw = Stopwatch.StartNew();
        await client.GetAddressBalanceAsync(s_account);
        // Our own backoff is 10 ms; only the header explains a wait of a second or more.
        Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(950), $"retried after {sw.Elapsed}");
    }

    [Fact]
    public async Task An_rpc_that_never_answers_fails_with_a_timeout_naming_the_method()
    {
        await using var server = new ScriptedToncenter(_ => new ScriptedToncenter.Reply(200, "", Hang: true));
        var logger = new CapturingLogger();
        using var client = new ToncenterClient(Fast(server.Endpoint, attempts: 2, timeoutSeconds: 1.5), logger: logger);
        var e = await Assert.ThrowsAsync<ToncenterException>(() => client.GetAddressInformationAsync(s_account));
        Assert.Equal("toncenter getAddressInformation: no reply within 1.5 s (gave up after 2 attempts)", e.Message);
        Assert.Equal(2, server.Requests.Count);
        Assert.DoesNotContain(ApiKey, e.ToString());
    }

    [Fact]
    public async Task Garbage_replies_fail_with_a_clear_error()
    {
        await using var server = new ScriptedToncenter(_ => new ScriptedToncenter.Reply(200, "<html>\n<b>bad gateway</b></html>"));
        using var client = new ToncenterClient(Fast(server.Endpoint, attempts: 2));
        var e = await Assert.ThrowsAsync<ToncenterException>(() => client.GetAddressBalanceAsync(s_account));
        Assert.Contains("the reply is not JSON (HTTP 200", e.Message);
        Assert.Contains("starts '<html>?<b>bad gateway</b></html>'", e.Message);
        Assert.Contains("gave up after 2 attempts", e.Message);

        await using var wrongShape = new ScriptedToncenter(_ => ScriptedToncenter.Reply.Ok("{\"unexpected\":true}"));
        using var client2 = new ToncenterClient(Fast(wrongShape.Endpoint, attempts: 1));
        Assert.Contains("'result' is not an amount", (await Assert.ThrowsAsync<ToncenterException>(() => client2.GetAddressBalanceAsync(s_account))).Message);
        Assert.Contains("expected shape", (await Assert.ThrowsAsync<ToncenterException>(() => client2.GetAddressInformationAsync(s_account))).Message);

        await using var badBoc = new ScriptedToncenter(_ => ScriptedToncenter.Reply.Ok("{\"balance\":\"1\",\"state\":\"active\",\"code\":\"AAAA\"}"));
        using var client3 = new ToncenterClient(Fast(badBoc.Endpoint, attempts: 1));
        Assert.Contains("expected shape: bag of cells: truncated header", (await Assert.ThrowsAsync<ToncenterException>(() => client3.GetAddressInformationAsync(s_account))).Message);
    }

    [Fact]
    public async Task A_refusal_is_reported_at_once_without_retrying()
    {
        await using var server = new ScriptedToncenter(_ => new ScriptedToncenter.Reply(500,
            "{\"ok\":false,\"error\":\"LITE_SERVER_UNKNOWN: cannot apply external message to current state\",\"code\":500}"));
        using var client = new ToncenterClient(Fast(server.Endpoint));
        var e = await Assert.ThrowsAsync<ToncenterException>(() => client.SendBocAsync(Cell.Empty));
        Assert.Equal("toncenter sendBoc: LITE_SERVER_UNKNOWN: cannot apply external message to current state", e.Message);
        Assert.Equal(500, e.HttpStatus);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task A_retried_send_carries_the_identical_signed_message()
    {
        var calls = 0;
        await using var server = new ScriptedToncenter(r => Interlocked.Increment(ref calls) switch
        {
            1 => new ScriptedToncenter.Reply(503, "busy"),
            2 => new ScriptedToncenter.Reply(200, "", Hang: true),
            _ => ScriptedToncenter.Reply.Ok("{\"@type\":\"ok\"}"),
        });
        using var key = Ed25519Key.Generate();
        var wallet = new WalletV5R1(key.PublicKey);
        var message = wallet.CreateTransfer(key, 3, 1_900_000_000, [new OutMessage(s_account, Coins.FromTon(1m))]);
        using var client = new ToncenterClient(Fast(server.Endpoint, attempts: 3, timeoutSeconds: 2));
        Assert.Equal(message.HashHex, await client.SendBocAsync(message));
        var bodies = server.Requests.Select(r => r.Body).ToArray();
        Assert.Equal(3, bodies.Length);
        Assert.All(bodies, b => Assert.Equal(bodies[0], b));
        var boc = JsonDocument.Parse(bodies[0]).RootElement.GetProperty("boc").GetString()!;
        Assert.Equal(message, BagOfCells.ParseBase64(boc));
    }

    private static string TransactionJson(Cell inMessage, Cell body, int exitCode, string source = "") => $$"""
        {"@type":"raw.transaction","utime":1700000000,"data":"","transaction_id":{"@type":"internal.transactionId","lt":"4200001","hash":"q1w2e3"},
         "fee":"1234567","storage_fee":"0","other_fee":"1234567",
         "in_msg":{"@type":"raw.message","hash":"{{Convert.ToBase64String(inMessage.Hash)}}","source":"{{source}}","destination":"{{s_account.ToFriendly()}}",
           "value":"0","fwd_fee":"0","ihr_fee":"0","created_lt":"0","body_hash":"",
           "msg_data":{"@type":"msg.dataRaw","body":"{{BagOfCells.SerializeBase64(body)}}","init_state":""} },
         "out_msgs":[{"@type":"raw.message","hash":"","source":"{{s_account.ToRaw()}}","destination":"0:{{new string('1', 64)}}","value":"1000000000",
           "msg_data":{"@type":"msg.dataRaw","body":"te6cckEBAQEAAgAAAEysuc0="} }],
         "description":{"aborted":false,"compute_ph":{"skipped":false,"success":{{(exitCode == 0 ? "true" : "false")}},"exit_code":{{exitCode}}},
           "action":{"success":true,"result_code":0} } }
        """;

    [Fact]
    public async Task Transactions_and_get_method_results_are_read()
    {
        var body = new CellBuilder().StoreUInt(77, 32).EndCell();
        var msg = new CellBuilder().StoreUInt(1, 8).StoreRef(body).EndCell();
        await using var server = new ScriptedToncenter(r => r.Path.EndsWith("getTransactions", StringComparison.Ordinal)
            ? ScriptedToncenter.Reply.Ok("[" + TransactionJson(msg, body, 35) + "]")
            : ScriptedToncenter.Reply.Ok("""{"gas_used":500,"exit_code":0,"stack":[["num","0x2a"],["num","-0x1"],["cell",{"bytes":"te6cckEBAQEAAgAAAEysuc0=","object":{}}]]}"""));
        using var client = new ToncenterClient(Fast(server.Endpoint));
        var tx = Assert.Single(await client.GetTransactionsAsync(s_account));
        Assert.Equal(4_200_001UL, tx.Lt);
        Assert.Equal(1_234_567UL, (ulong)tx.TotalFees.Nanoton);
        Assert.Null(tx.InMessage!.Source);
        Assert.Equal(s_account, tx.InMessage.Destination);
        Assert.Equal(msg.HashHex, tx.InMessage.Hash);
        Assert.Equal(body, tx.InMessage.Body);
        Assert.Equal(1_000_000_000UL, (ulong)tx.OutMessages[0].Value.Nanoton);
        Assert.Equal(new TransactionOutcome(false, 35, 0, false), tx.Outcome);
        Assert.False(tx.Outcome!.Succeeded);

        var get = await client.RunGetMethodAsync(s_account, "get_thing", [new TvmValue.Number(-5), new TvmValue.CellValue(Cell.Empty)]);
        Assert.Equal(0, get.ExitCode);
        Assert.Equal(42, get.Number(0));
        Assert.Equal(-1, get.Number(1));
        Assert.Equal(Cell.Empty, get.CellAt(2));
        var sent = JsonDocument.Parse(server.Requests.Last().Body).RootElement;
        Assert.Equal("get_thing", sent.GetProperty("method").GetString());
        Assert.Equal("-0x5", sent.GetProperty("stack")[0][1].GetString());
    }

    [Fact]
    public async Task A_send_that_failed_but_landed_is_confirmed_once_by_its_transaction()
    {
        using var key = Ed25519Key.Generate();
        var wallet = new WalletV5R1(key.PublicKey);
        Cell? landed = null;
        // The simulated node accepts the message on the first try but the reply is lost (timeout); later sends are
        // refused as a real wallet refuses a used seqno. The transaction list then shows the one execution.
        await using var server = new ScriptedToncenter(r =>
        {
            if (r.Path.EndsWith("sendBoc", StringComparison.Ordinal))
            {
                var boc = BagOfCells.ParseBase64(JsonDocument.Parse(r.Body).RootElement.GetProperty("boc").GetString()!);
                if (landed is null)
                {
                    landed = boc;
                    return new ScriptedToncenter.Reply(200, "", Hang: true);
                }
                return new ScriptedToncenter.Reply(500, "{\"ok\":false,\"error\":\"external message was not accepted: exit code 33\"}");
            }
            if (r.Path.EndsWith("getAddressInformation", StringComparison.Ordinal))
            {
                return ScriptedToncenter.Reply.Ok(landed is null ? "{\"balance\":\"0\",\"state\":\"uninitialized\"}" : "{\"balance\":\"0\",\"state\":\"active\"}");
            }
            if (r.Path.EndsWith("runGetMethod", StringComparison.Ordinal))
            {
                return ScriptedToncenter.Reply.Ok("{\"gas_used\":0,\"exit_code\":0,\"stack\":[[\"num\",\"0x1\"]]}"); // deployed by the landed request
            }
            return ScriptedToncenter.Reply.Ok(landed is null ? "[]" : "[" + TransactionJson(landed, ExternalBody(landed), 0) + "]");
        });
        using var client = new ToncenterClient(Fast(server.Endpoint, attempts: 3, timeoutSeconds: 2));
        var tonWallet = new TonWallet(client, wallet, key);
        var transfer = await tonWallet.PrepareAsync([new OutMessage(s_account, Coins.FromTon(1m), Bounce: false)], TimeSpan.FromMinutes(5));
        Assert.Equal(0u, transfer.Seqno);
        var tx = await tonWallet.SendAndConfirmAsync(transfer, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(50));
        Assert.Equal(transfer.MessageHash, tx.InMessage!.Hash);
        Assert.True(tx.Outcome!.Succeeded);
        // Sent twice (the lost reply, then the refused repeat), both byte-identical.
        var sends = server.Requests.Where(r => r.Path.EndsWith("sendBoc", StringComparison.Ordinal)).Select(r => r.Body).ToArray();
        Assert.Equal(2, sends.Length);
        Assert.Equal(sends[0], sends[1]);
    }

    [Fact]
    public async Task After_a_confirmation_no_request_reuses_its_seqno_even_when_the_api_reports_an_older_one()
    {
        using var key = Ed25519Key.Generate();
        var wallet = new WalletV5R1(key.PublicKey);
        var landed = new ConcurrentQueue<Cell>();
        var seqnoReads = 0;
        // The simulated API: the wallet is live at seqno 4 and a sent request lands at once. Its seqno get-method reports
        // 5 once, right after the confirmation, then 4 again, as a replica behind the one that showed the transaction.
        await using var server = new ScriptedToncenter(r =>
        {
            if (r.Path.EndsWith("sendBoc", StringComparison.Ordinal))
            {
                landed.Enqueue(BagOfCells.ParseBase64(JsonDocument.Parse(r.Body).RootElement.GetProperty("boc").GetString()!));
                return ScriptedToncenter.Reply.Ok("{}");
            }
            if (r.Path.EndsWith("getAddressInformation", StringComparison.Ordinal))
            {
                return ScriptedToncenter.Reply.Ok("{\"balance\":\"5000000000\",\"state\":\"active\"}");
            }
            if (r.Path.EndsWith("runGetMethod", StringComparison.Ordinal))
            {
                var seqno = Interlocked.Increment(ref seqnoReads) == 2 ? 5 : 4;
                return ScriptedToncenter.Reply.Ok($$"""{"gas_used":0,"exit_code":0,"stack":[["num","0x{{seqno:x}}"]]}""");
            }
            return ScriptedToncenter.Reply.Ok("[" + string.Join(",", landed.Reverse().Select(c => TransactionJson(c, ExternalBody(c), 0))) + "]");
        });
        using var client = new ToncenterClient(Fast(server.Endpoint));
        var first = new TonWallet(client, wallet, key);
        var transfer = await first.PrepareAsync([new OutMessage(s_account, Coins.FromTon(1m), Bounce: false)], TimeSpan.FromMinutes(5));
        Assert.Equal(4u, transfer.Seqno);
        var tx = await first.SendAndConfirmAsync(transfer, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(50));
        Assert.Equal(transfer.MessageHash, tx.InMessage!.Hash);
        Assert.Equal(2, seqnoReads); // it waited for the chain to report the seqno past the one used

        // The API now says 4 again: this process's wallets (the same object or another one of the same wallet, as the
        // anchor client and the runtime each hold) sign 5, never the spent 4.
        Assert.Equal(5u, (await first.PrepareAsync([new OutMessage(s_account, Coins.FromTon(1m), Bounce: false)], TimeSpan.FromMinutes(5))).Seqno);
        var second = new TonWallet(client, wallet, key);
        Assert.Equal(5u, (await second.PrepareAsync([new OutMessage(s_account, Coins.FromTon(1m), Bounce: false)], TimeSpan.FromMinutes(5))).Seqno);
        Assert.Equal(4, seqnoReads);
    }

    [Fact]
    public async Task A_message_past_its_valid_until_is_reported_as_expired()
    {
        await using var server = new ScriptedToncenter(_ => ScriptedToncenter.Reply.Ok("[]"));
        using var client = new ToncenterClient(Fast(server.Endpoint));
        var validUntil = (uint)DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds();
        var e = await Assert.ThrowsAsync<TonMessageExpiredException>(() =>
            MessageConfirmation.WaitForAsync(client, s_account, Cell.Empty, null, validUntil, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(10)));
        Assert.Contains("can no longer be executed", e.Message);
        var t = await Assert.ThrowsAsync<TonConfirmationTimeoutException>(() =>
            MessageConfirmation.WaitForAsync(client, s_account, Cell.Empty, null, validUntil + 3600, TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(20)));
        Assert.Contains("stays valid until", t.Message);
    }

    private static Cell ExternalBody(Cell external)
    {
        var s = external.BeginParse();
        s.LoadUInt(2);
        s.LoadAddress();
        s.LoadAddress();
        s.LoadCoins();
        if (s.LoadBit())
        {
            if (s.LoadBit())
            {
                s.LoadRef();
            }
            else
            {
                // Inline StateInit: 5 bits, code and data references.
                s.LoadUInt(5);
                s.LoadRef();
                s.LoadRef();
            }
        }
        return s.LoadBit() ? s.LoadRef() : new CellBuilder().StoreSlice(s).EndCell();
    }
}
