using System.Net;
using System.Net.Sockets;

namespace Duckton.Transport;

/// <summary>Accepts peer connections; each authenticated connection is handed to <c>onConnection</c> on its own task.</summary>
public sealed class PeerListener : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private Task _acceptLoop = Task.CompletedTask;

    private PeerListener(Socket socket) => _socket = socket;

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public static Task<PeerListener> StartAsync(NodeIdentity identity, IPEndPoint endPoint, TransportOptions options, Func<PeerConnection, CancellationToken, Task> onConnection, CancellationToken cancellationToken = default)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(endPoint);
            socket.Listen(512);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var listener = new PeerListener(socket);
        var token = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, listener._stop.Token).Token;
        listener._acceptLoop = Task.Run(() => listener.AcceptLoop(identity, options, onConnection, token), CancellationToken.None);
        return Task.FromResult(listener);
    }

    private async Task AcceptLoop(NodeIdentity identity, TransportOptions options, Func<PeerConnection, CancellationToken, Task> onConnection, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (Exception) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(async () =>
            {
                PeerConnection connection;
                try
                {
                    connection = await PeerConnection.EstablishAsync(client, isServer: true, identity, null, options, token).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    client.Dispose();
                    return;
                }
                try
                {
                    await onConnection(connection, token).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // The handler owns its errors; a failing handler only loses its own connection.
                }
                finally
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }, CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        try
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        catch (Exception)
        {
        }
        _stop.Dispose();
    }
}

/// <summary>Dials peers.</summary>
public static class PeerConnector
{
    /// <summary>Connects to <paramref name="address"/> (<c>host:port</c>); with <paramref name="expectedNodeId"/> the peer must prove that identity.</summary>
    public static async Task<PeerConnection> ConnectAsync(NodeIdentity identity, string address, string? expectedNodeId, TransportOptions options, CancellationToken cancellationToken = default)
    {
        var (host, port) = ParseAddress(address);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.HandshakeTimeout);
            await socket.ConnectAsync(host, port, timeout.Token).ConfigureAwait(false);
            var connection = await PeerConnection.EstablishAsync(socket, isServer: false, identity, expectedNodeId, options, cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    internal static (string Host, int Port) ParseAddress(string address)
    {
        var a = address.Trim();
        foreach (var scheme in new[] { "tcp://", "quic://", "tls://" })
        {
            if (a.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            {
                a = a[scheme.Length..];
            }
        }
        a = a.TrimEnd('/');
        var colon = a.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(a.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new FormatException($"'{address}' is not a host:port address");
        }
        var host = a[..colon].Trim('[', ']');
        return (host, port);
    }
}
