using System.Globalization;
using System.Net;
using System.Numerics;
using System.Text;
using System.Text.Json;
using Duckton.Ton.Addresses;
using Duckton.Ton.Cells;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Duckton.Ton.Rpc;

/// <summary>
/// A toncenter v2 client over HttpClient. Transient failures (timeouts, refused connections, HTTP 429 and 502–504,
/// unreadable replies) are retried with exponential backoff; a 429's Retry-After is honoured. Retrying sendBoc is safe
/// because a wallet message carries its seqno and valid-until: the chain runs it at most once.
/// </summary>
public sealed partial class ToncenterClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly ToncenterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _base;

    public ToncenterClient(ToncenterOptions options, HttpClient? http = null, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "MaxAttempts must be at least 1");
        }
        _options = options;
        _ownsHttp = http is null;
        // Our own per-try timeout applies; HttpClient's would cut across the retries.
        _http = http ?? new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _base = options.Endpoint.ToString().TrimEnd('/') + "/";
    }

    public ToncenterOptions Options => _options;

    /// <summary>Sends an external message (a bag of cells with one root). Returns the message hash (hex).</summary>
    public async Task<string> SendBocAsync(Cell message, CancellationToken cancellationToken = default)
    {
        var boc = BagOfCells.SerializeBase64(message);
        await PostAsync("sendBoc", w => w.WriteString("boc", boc), cancellationToken).ConfigureAwait(false);
        return message.HashHex;
    }

    public async Task<Coins> GetAddressBalanceAsync(TonAddress address, CancellationToken cancellationToken = default)
    {
        var result = await GetAsync("getAddressBalance", $"address={Uri.EscapeDataString(address.ToRaw())}", cancellationToken).ConfigureAwait(false);
        return ParseCoins(result, "getAddressBalance", "result");
    }

    public async Task<AccountInfo> GetAddressInformationAsync(TonAddress address, CancellationToken cancellationToken = default)
    {
        const string method = "getAddressInformation";
        var r = await GetAsync(method, $"address={Uri.EscapeDataString(address.ToRaw())}", cancellationToken).ConfigureAwait(false);
        return Shape(method, () =>
        {
            var balance = ParseCoins(r.GetProperty("balance"), method, "balance");
            var state = r.TryGetProperty("state", out var s) ? s.GetString() ?? "unknown" : "unknown";
            return new AccountInfo(balance, state, OptionalBoc(r, "code"), OptionalBoc(r, "data"));
        });
    }

    /// <summary>Runs a get method. A non-zero TVM exit code is returned, not thrown; the caller decides.</summary>
    public async Task<GetMethodResult> RunGetMethodAsync(TonAddress address, string method, IReadOnlyList<TvmValue>? stack = null,
        CancellationToken cancellationToken = default)
    {
        const string name = "runGetMethod";
        var r = await PostAsync(name, w =>
        {
            w.WriteString("address", address.ToRaw());
            w.WriteString("method", method);
            w.WriteStartArray("stack");
            foreach (var v in stack ?? [])
            {
                w.WriteStartArray();
                switch (v)
                {
                    case TvmValue.Number n:
                        w.WriteStringValue("num");
                        w.WriteStringValue(ToHexNumber(n.Value));
                        break;
                    case TvmValue.CellValue c:
                        w.WriteStringValue("tvm.Cell");
                        w.WriteStringValue(BagOfCells.SerializeBase64(c.Cell));
                        break;
                    default:
                        throw new ArgumentException("only numbers and cells can be passed to a get method", nameof(stack));
                }
                w.WriteEndArray();
            }
            w.WriteEndArray();
        }, cancellationToken).ConfigureAwait(false);
        return Shape(name, () =>
        {
            var exit = r.GetProperty("exit_code").GetInt32();
            var items = new List<TvmValue>();
            if (r.TryGetProperty("stack", out var st))
            {
                foreach (var e in st.EnumerateArray())
                {
                    items.Add(ParseStackEntry(e));
                }
            }
            return new GetMethodResult(exit, items);
        });
    }

    /// <summary>The wallet's seqno: 0 while it is not deployed, otherwise its <c>seqno</c> get method.</summary>
    public async Task<uint> GetWalletSeqnoAsync(TonAddress wallet, CancellationToken cancellationToken = default)
    {
        var info = await GetAddressInformationAsync(wallet, cancellationToken).ConfigureAwait(false);
        if (!info.IsActive)
        {
            return 0;
        }
        var r = await RunGetMethodAsync(wallet, "seqno", null, cancellationToken).ConfigureAwait(false);
        if (r.ExitCode != 0 || r.Stack.Count < 1)
        {
            throw new ToncenterException("runGetMethod", $"seqno of {wallet} failed with exit code {r.ExitCode}");
        }
        return (uint)r.Number(0);
    }

    /// <summary>The account's latest transactions, newest first.</summary>
    public async Task<IReadOnlyList<TonTransaction>> GetTransactionsAsync(TonAddress address, int limit = 20, CancellationToken cancellationToken = default)
    {
        const string method = "getTransactions";
        var r = await GetAsync(method, $"address={Uri.EscapeDataString(address.ToRaw())}&limit={limit}&archival=true", cancellationToken)
            .ConfigureAwait(false);
        return Shape(method, () => r.EnumerateArray().Select(ParseTransaction).ToArray());
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private Task<JsonElement> GetAsync(string method, string query, CancellationToken ct) =>
        CallAsync(method, () => new HttpRequestMessage(HttpMethod.Get, _base + method + "?" + query), ct);

    private Task<JsonElement> PostAsync(string method, Action<Utf8JsonWriter> body, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        var bytes = buffer.ToArray();
        return CallAsync(method, () => new HttpRequestMessage(HttpMethod.Post, _base + method)
        {
            Content = new ByteArrayContent(bytes) { Headers = { ContentType = new("application/json") } },
        }, ct);
    }

    private async Task<JsonElement> CallAsync(string method, Func<HttpRequestMessage> makeRequest, CancellationToken ct)
    {
        string? lastProblem = null;
        int? lastStatus = null;
        Exception? lastException = null;
        for (var attempt = 1; attempt <= _options.MaxAttempts; attempt++)
        {
            TimeSpan? retryAfter = null;
            using var timeout = new CancellationTokenSource(_options.RequestTimeoutValue, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
            try
            {
                using var request = makeRequest();
                if (_options.ApiKey is { Length: > 0 } key)
                {
                    request.Headers.TryAddWithoutValidation("X-API-Key", key);
                }
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token).ConfigureAwait(false);
                var text = await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false);
                var status = (int)response.StatusCode;
                lastStatus = status;
                JsonDocument? doc = null;
                try
                {
                    doc = JsonDocument.Parse(text);
                }
                catch (JsonException)
                {
                }
                using (doc)
                {
                    var ok = doc is not null && doc.RootElement.ValueKind == JsonValueKind.Object
                        && doc.RootElement.TryGetProperty("ok", out var okProp) && okProp.ValueKind == JsonValueKind.True;
                    if (ok && doc!.RootElement.TryGetProperty("result", out var result) && response.IsSuccessStatusCode)
                    {
                        return result.Clone();
                    }
                    var error = doc is not null && doc.RootElement.ValueKind == JsonValueKind.Object
                        && doc.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
                    if (status == 429 || response.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout)
                    {
                        lastProblem = status == 429 ? "rate limited (HTTP 429)" : $"HTTP {status}" + (error is null ? "" : $": {error}");
                        retryAfter = response.Headers.RetryAfter?.Delta;
                    }
                    else if (doc is null || doc.RootElement.ValueKind != JsonValueKind.Object)
                    {
                        lastProblem = $"the reply is not JSON (HTTP {status}, {text.Length} characters, starts '{Preview(text)}')";
                    }
                    else if (error is not null || !response.IsSuccessStatusCode)
                    {
                        // The server understood and refused: retrying cannot help.
                        throw new ToncenterException(method, error ?? $"HTTP {status}", status);
                    }
                    else
                    {
                        lastProblem = $"the reply has no 'ok: true' with a result (HTTP {status}, starts '{Preview(text)}')";
                    }
                }
            }
            catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
            {
                lastProblem = $"no reply within {_options.RequestTimeoutValue.TotalSeconds:0.#} s";
                lastException = e;
            }
            catch (HttpRequestException e)
            {
                lastProblem = $"connection failed: {e.Message}";
                lastException = e;
            }
            if (attempt == _options.MaxAttempts)
            {
                break;
            }
            var backoff = TimeSpan.FromTicks(Math.Min(_options.MaxBackoffValue.Ticks,
                _options.InitialBackoffValue.Ticks * (1L << Math.Min(attempt - 1, 20))));
            if (retryAfter is { } ra && ra > backoff)
            {
                backoff = ra < _options.MaxBackoffValue ? ra : _options.MaxBackoffValue;
            }
            LogRetry(method, attempt, _options.MaxAttempts, lastProblem ?? "unknown", backoff.TotalMilliseconds);
            await Task.Delay(backoff, _time, ct).ConfigureAwait(false);
        }
        throw new ToncenterException(method, $"{lastProblem} (gave up after {_options.MaxAttempts} attempts)", lastStatus, lastException);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "toncenter {Method} attempt {Attempt}/{Max} failed: {Problem}; retrying in {DelayMs} ms")]
    private partial void LogRetry(string method, int attempt, int max, string problem, double delayMs);

    private static string Preview(string text)
    {
        var s = text.Length > 40 ? text[..40] : text;
        var sb = new StringBuilder(s.Length);
        foreach (var c in s)
        {
            sb.Append(char.IsControl(c) ? '?' : c);
        }
        return sb.ToString();
    }

    private static T Shape<T>(string method, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new ToncenterException(method, $"the reply does not have the expected shape: {e.Message}", null, e);
        }
    }

    private static Coins ParseCoins(JsonElement e, string method, string field)
    {
        var text = e.ValueKind switch
        {
            JsonValueKind.Number => e.GetRawText(),
            JsonValueKind.String => e.GetString(),
            _ => null,
        };
        if (text is null || !BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
        {
            throw new ToncenterException(method, $"'{field}' is not an amount");
        }
        try
        {
            return Coins.FromNanoton(v);
        }
        catch (TonFormatException ex)
        {
            throw new ToncenterException(method, $"'{field}': {ex.Message}");
        }
    }

    private static Cell? OptionalBoc(JsonElement parent, string name)
    {
        if (!parent.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.String || v.GetString() is not { Length: > 0 } s)
        {
            return null;
        }
        return BagOfCells.ParseBase64(s);
    }

    private static string ToHexNumber(BigInteger v) =>
        v.Sign < 0 ? "-0x" + (-v).ToString("x", CultureInfo.InvariantCulture).TrimStart('0').PadLeft(1, '0')
                   : "0x" + v.ToString("x", CultureInfo.InvariantCulture).TrimStart('0').PadLeft(1, '0');

    internal static BigInteger ParseNumber(string s)
    {
        var neg = s.StartsWith('-');
        var body = neg ? s[1..] : s;
        BigInteger v;
        if (body.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            v = BigInteger.Parse("0" + body[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        }
        else
        {
            v = BigInteger.Parse(body, NumberStyles.None, CultureInfo.InvariantCulture);
        }
        return neg ? -v : v;
    }

    private static TvmValue ParseStackEntry(JsonElement e)
    {
        var kind = e[0].GetString();
        var value = e[1];
        switch (kind)
        {
            case "num":
            case "int":
                return new TvmValue.Number(ParseNumber(value.GetString() ?? throw new FormatException("number entry without a value")));
            case "cell":
            case "slice":
            case "tvm.Cell":
            case "tvm.Slice":
                var b64 = value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetProperty("bytes").GetString();
                return new TvmValue.CellValue(BagOfCells.ParseBase64(b64 ?? throw new FormatException("cell entry without bytes")));
            case "null":
                return new TvmValue.Null();
            default:
                throw new FormatException($"unsupported stack entry '{kind}'");
        }
    }

    private static TonAddress? OptionalAddress(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? TonAddress.Parse(s) : null;

    private static TonMessageInfo ParseMessage(JsonElement m)
    {
        var value = m.TryGetProperty("value", out var v) ? ParseCoins(v, "getTransactions", "value") : Coins.Zero;
        string? hash = null;
        if (m.TryGetProperty("hash", out var h) && h.GetString() is { Length: > 0 } hs)
        {
            hash = hs.Length == 64 ? hs.ToLowerInvariant() : Convert.ToHexStringLower(Convert.FromBase64String(hs.Replace('-', '+').Replace('_', '/')));
        }
        Cell? body = null;
        if (m.TryGetProperty("msg_data", out var md) && md.ValueKind == JsonValueKind.Object
            && md.TryGetProperty("body", out var b) && b.GetString() is { Length: > 0 } bs)
        {
            body = BagOfCells.ParseBase64(bs);
        }
        var fwd = m.TryGetProperty("fwd_fee", out var ff) ? ParseCoins(ff, "getTransactions", "fwd_fee") : Coins.Zero;
        var bounced = m.TryGetProperty("bounced", out var bo) && bo.ValueKind == JsonValueKind.True;
        return new TonMessageInfo(OptionalAddress(m, "source"), OptionalAddress(m, "destination"), value, hash, body, fwd, bounced);
    }

    private static TransactionOutcome? ParseOutcome(JsonElement tx)
    {
        if (!tx.TryGetProperty("description", out var d) || d.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        var aborted = d.TryGetProperty("aborted", out var a) && a.ValueKind == JsonValueKind.True;
        var skipped = false;
        int? exit = null;
        if (d.TryGetProperty("compute_ph", out var c) && c.ValueKind == JsonValueKind.Object)
        {
            skipped = (c.TryGetProperty("skipped", out var sk) && sk.ValueKind == JsonValueKind.True)
                || (c.TryGetProperty("type", out var ty) && ty.GetString() == "skipped");
            if (c.TryGetProperty("exit_code", out var ec) && ec.ValueKind == JsonValueKind.Number)
            {
                exit = ec.GetInt32();
            }
        }
        int? action = null;
        if ((d.TryGetProperty("action", out var ac) || d.TryGetProperty("action_ph", out ac)) && ac.ValueKind == JsonValueKind.Object
            && ac.TryGetProperty("result_code", out var rc) && rc.ValueKind == JsonValueKind.Number)
        {
            action = rc.GetInt32();
        }
        return new TransactionOutcome(skipped, exit, action, aborted);
    }

    private static TonTransaction ParseTransaction(JsonElement tx)
    {
        var id = tx.GetProperty("transaction_id");
        var lt = ulong.Parse(id.GetProperty("lt").GetString() ?? "0", CultureInfo.InvariantCulture);
        var hash = id.GetProperty("hash").GetString() ?? "";
        var utime = tx.TryGetProperty("utime", out var u) && u.ValueKind == JsonValueKind.Number ? u.GetInt64() : 0;
        var fee = tx.TryGetProperty("fee", out var f) ? ParseCoins(f, "getTransactions", "fee") : Coins.Zero;
        var inMsg = tx.TryGetProperty("in_msg", out var im) && im.ValueKind == JsonValueKind.Object ? ParseMessage(im) : null;
        var outs = tx.TryGetProperty("out_msgs", out var om) && om.ValueKind == JsonValueKind.Array
            ? om.EnumerateArray().Select(ParseMessage).ToArray()
            : [];
        return new TonTransaction(lt, hash, utime, fee, inMsg, outs, ParseOutcome(tx));
    }
}
