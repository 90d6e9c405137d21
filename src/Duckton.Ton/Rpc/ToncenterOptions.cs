namespace Duckton.Ton.Rpc;

/// <summary>How to reach a toncenter v2 compatible HTTP API.</summary>
/// <param name="Endpoint">Base address ending in <c>/api/v2</c>, e.g. <c>https://testnet.toncenter.com/api/v2</c>.</param>
/// <param name="ApiKey">Sent as the <c>X-API-Key</c> header when set; never logged or put in error messages.</param>
/// <param name="MaxAttempts">Tries per call for transient failures (timeouts, connection errors, 429, 502–504, unreadable replies).</param>
/// <param name="InitialBackoff">Wait before the second try; doubles per try up to <paramref name="MaxBackoff"/>.</param>
/// <param name="MaxBackoff">Longest wait between tries (a 429's Retry-After is honoured up to this).</param>
/// <param name="RequestTimeout">Longest wait for one HTTP reply.</param>
public sealed record ToncenterOptions(
    Uri Endpoint,
    string? ApiKey = null,
    int MaxAttempts = 5,
    TimeSpan? InitialBackoff = null,
    TimeSpan? MaxBackoff = null,
    TimeSpan? RequestTimeout = null)
{
    public TimeSpan InitialBackoffValue => InitialBackoff ?? TimeSpan.FromMilliseconds(250);

    public TimeSpan MaxBackoffValue => MaxBackoff ?? TimeSpan.FromSeconds(8);

    public TimeSpan RequestTimeoutValue => RequestTimeout ?? TimeSpan.FromSeconds(15);

    // The key stays out of ToString (records print every property by default).
    public override string ToString() =>
        $"ToncenterOptions {{ Endpoint = {Endpoint}, ApiKey = {(ApiKey is null ? "none" : "set")}, MaxAttempts = {MaxAttempts} }}";
}

/// <summary>A toncenter call that failed for good (after the retries a transient failure gets).</summary>
public sealed class ToncenterException : Exception
{
    public ToncenterException(string method, string message, int? httpStatus = null, Exception? inner = null)
        : base($"toncenter {method}: {message}", inner)
    {
        Method = method;
        HttpStatus = httpStatus;
    }

    public string Method { get; }

    public int? HttpStatus { get; }
}
