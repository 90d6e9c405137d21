using System.Text.Json;

namespace Duckton.Ton.Rpc;

/// <summary>
/// The extra endpoints of the local emulator (<c>duckton chain up</c>), which no real TON API has. Only the chain's clock
/// is needed off the emulator's own tests: it can be moved forward, so messages must take valid-until from it.
/// </summary>
public static class LocalChainApi
{
    /// <summary>The emulator's current unix time (<c>/local/now</c> next to <c>/api/v2</c>).</summary>
    public static async Task<long> NowAsync(HttpClient http, Uri apiEndpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(apiEndpoint);
        var uri = new Uri(apiEndpoint, "/local/now");
        try
        {
            using var response = await http.GetAsync(uri, cancellationToken).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.GetProperty("result").GetProperty("now").GetInt64();
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException
            or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new ToncenterException("local/now", $"the local chain's clock is unreadable at {uri.GetLeftPart(UriPartial.Authority)}: {e.Message}", null, e);
        }
    }
}
