using System.Globalization;
using System.Net;

namespace Duckton.Transport;

/// <summary><c>host:port</c> addresses: <c>10.0.0.5:9494</c>, <c>[::1]:9494</c>, <c>node.example:9494</c>.</summary>
internal static class PeerAddress
{
    public static (string Host, int Port) Parse(string address)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        var text = address.Trim();
        string host;
        string portText;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':')
            {
                throw Bad(address);
            }
            host = text[1..close];
            portText = text[(close + 2)..];
            if (!IPAddress.TryParse(host, out var ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                throw Bad(address);
            }
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon <= 0 || text.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                throw Bad(address);
            }
            host = text[..colon];
            portText = text[(colon + 1)..];
        }
        if (host.Length is 0 or > 253 || host.AsSpan().IndexOfAny(" /\\@") >= 0)
        {
            throw Bad(address);
        }
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new ArgumentException($"'{address}': the port must be 1–65535", nameof(address));
        }
        return (host, port);
    }

    /// <summary>The form used as a TOFU pin key: host lower-cased, IPv6 bracketed.</summary>
    public static string Normalize(string address)
    {
        var (host, port) = Parse(address);
        host = host.ToLowerInvariant();
        return host.Contains(':', StringComparison.Ordinal)
            ? string.Create(CultureInfo.InvariantCulture, $"[{host}]:{port}")
            : string.Create(CultureInfo.InvariantCulture, $"{host}:{port}");
    }

    public static string Format(IPEndPoint endpoint) =>
        endpoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endpoint.Address.MapToIPv4(), endpoint.Port).ToString() : endpoint.ToString();

    private static ArgumentException Bad(string address) =>
        new($"'{address}' is not a host:port address (examples: 10.0.0.5:9494, [::1]:9494, node.example:9494)", nameof(address));
}
