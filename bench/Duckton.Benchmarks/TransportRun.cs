using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Duckton.Transport;

namespace Duckton.Benchmarks;

/// <summary>
/// <c>--transport [MiB]</c>: loopback throughput of one bare SslStream (TLS 1.3, the anchor) against the same bytes sent as
/// 1 MiB PeerConnection frames, and handshake latency of both. Stopwatch timing; runs alternate, best of five for throughput.
/// </summary>
public static class TransportRun
{
    private const int Chunk = 1 << 20;

    public static async Task<int> RunAsync(long totalMiB)
    {
        var total = totalMiB * Chunk;
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
        Console.WriteLine($"transport loopback, {totalMiB} MiB per run, {Environment.ProcessorCount} cores, load {load}, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}");
        using var cert = CreateCertificate();
        var payload = new byte[Chunk];
        RandomNumberGenerator.Fill(payload);

        await BareAsync(cert, payload, Chunk * 64L); // warm-up
        await FramedAsync(payload, Chunk * 64L, leased: false);
        await FramedAsync(payload, Chunk * 64L, leased: true);
        double bare = 0, framed = 0, leasedFramed = 0;
        for (var i = 0; i < 5; i++)
        {
            bare = Math.Max(bare, await BareAsync(cert, payload, total));
            framed = Math.Max(framed, await FramedAsync(payload, total, leased: false));
            leasedFramed = Math.Max(leasedFramed, await FramedAsync(payload, total, leased: true));
        }
        Console.WriteLine($"bare SslStream TLS 1.3, 1 MiB writes:    {bare / 1e6,8:F0} MB/s");
        Console.WriteLine($"PeerConnection, 1 MiB frames, ReceiveAsync:       {framed / 1e6,8:F0} MB/s  ({framed / bare:P0} of bare)");
        Console.WriteLine($"PeerConnection, 1 MiB frames, ReceiveLeasedAsync: {leasedFramed / 1e6,8:F0} MB/s  ({leasedFramed / bare:P0} of bare)");

        var (bareP50, bareP99) = await BareHandshakesAsync(cert, 200);
        var (p50, p99) = await PeerHandshakesAsync(200);
        Console.WriteLine($"bare TLS 1.3 handshake (server auth):     p50 {bareP50:F2} ms  p99 {bareP99:F2} ms");
        Console.WriteLine($"PeerConnector handshake (mTLS + Hello):  p50 {p50:F2} ms  p99 {p99:F2} ms  ({p50 / bareP50:F1}x bare p50)");
        return 0;
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=bench", key, HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static async Task<(SslStream Server, SslStream Client, IDisposable Cleanup)> BarePairAsync(X509Certificate2 cert)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accept = listener.AcceptSocketAsync();
        var clientSocket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await clientSocket.ConnectAsync(listener.LocalEndpoint);
        var serverSocket = await accept;
        serverSocket.NoDelay = true;
        var server = new SslStream(new NetworkStream(serverSocket, ownsSocket: true));
        var client = new SslStream(new NetworkStream(clientSocket, ownsSocket: true));
        await Task.WhenAll(
            server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = cert, EnabledSslProtocols = SslProtocols.Tls13 }),
            client.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "bench",
                EnabledSslProtocols = SslProtocols.Tls13,
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            }));
        return (server, client, new Both(server, client));
    }

    private static async Task<double> BareAsync(X509Certificate2 cert, byte[] payload, long total)
    {
        var (server, client, cleanup) = await BarePairAsync(cert);
        using (cleanup)
        {
            var sw = Stopwatch.StartNew();
            var reader = Task.Run(async () =>
            {
                var buffer = new byte[Chunk];
                long received = 0;
                while (received < total)
                {
                    var n = await server.ReadAsync(buffer);
                    if (n == 0)
                    {
                        throw new EndOfStreamException();
                    }
                    received += n;
                }
            });
            for (long sent = 0; sent < total; sent += Chunk)
            {
                await client.WriteAsync(payload);
            }
            await reader;
            return total / sw.Elapsed.TotalSeconds;
        }
    }

    private static async Task<double> FramedAsync(byte[] payload, long total, bool leased)
    {
        using var serverId = NodeIdentity.Create();
        using var clientId = NodeIdentity.Create();
        var done = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var listener = await PeerListener.StartAsync(serverId, new IPEndPoint(IPAddress.Loopback, 0), TransportOptions.Default, async (c, ct) =>
        {
            long received = 0;
            while (received < total)
            {
                if (leased)
                {
                    using var frame = await c.ReceiveLeasedAsync(ct);
                    received += frame.Payload.Length;
                }
                else
                {
                    received += (await c.ReceiveAsync(ct)).Payload.Length;
                }
            }
            done.SetResult(received);
        });
        await using var connection = await PeerConnector.ConnectAsync(clientId, $"127.0.0.1:{listener.LocalEndPoint.Port}", serverId.NodeId, TransportOptions.Default);
        var sw = Stopwatch.StartNew();
        for (long sent = 0; sent < total; sent += Chunk)
        {
            await connection.SendAsync(MessageType.Batch, payload);
        }
        await done.Task;
        return total / sw.Elapsed.TotalSeconds;
    }

    private static async Task<(double P50, double P99)> BareHandshakesAsync(X509Certificate2 cert, int count)
    {
        var times = new List<double>(count);
        for (var i = 0; i < count + 10; i++)
        {
            var sw = Stopwatch.StartNew();
            var (_, _, cleanup) = await BarePairAsync(cert);
            var ms = sw.Elapsed.TotalMilliseconds;
            cleanup.Dispose();
            if (i >= 10)
            {
                times.Add(ms);
            }
        }
        return Percentiles(times);
    }

    private static async Task<(double P50, double P99)> PeerHandshakesAsync(int count)
    {
        using var serverId = NodeIdentity.Create();
        using var clientId = NodeIdentity.Create();
        await using var listener = await PeerListener.StartAsync(serverId, new IPEndPoint(IPAddress.Loopback, 0), TransportOptions.Default,
            (c, ct) => Task.Delay(Timeout.Infinite, ct));
        var address = $"127.0.0.1:{listener.LocalEndPoint.Port}";
        var times = new List<double>(count);
        for (var i = 0; i < count + 10; i++)
        {
            var sw = Stopwatch.StartNew();
            var c = await PeerConnector.ConnectAsync(clientId, address, serverId.NodeId, TransportOptions.Default);
            var ms = sw.Elapsed.TotalMilliseconds;
            await c.DisposeAsync();
            if (i >= 10)
            {
                times.Add(ms);
            }
        }
        return Percentiles(times);
    }

    private static (double P50, double P99) Percentiles(List<double> times)
    {
        times.Sort();
        return (times[times.Count / 2], times[(int)Math.Min(times.Count - 1, Math.Ceiling(times.Count * 0.99) - 1)]);
    }

    private sealed class Both(IDisposable a, IDisposable b) : IDisposable
    {
        public void Dispose()
        {
            a.Dispose();
            b.Dispose();
        }
    }
}
