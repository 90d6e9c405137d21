using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Duckton.Ton.Tests;

/// <summary>
/// SIMULATED toncenter: a real HTTP server on 127.0.0.1 whose replies a test scripts (slow, rate limited, garbage,
/// refusals). It exists to drive the client's failure handling over real sockets; it has no chain behind it.
/// </summary>
internal sealed class ScriptedToncenter : IAsyncDisposable
{
    public sealed record Request(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, string Body);

    /// <summary>A reply; <see cref="Hang"/> never answers (the client's timeout must fire).</summary>
    public sealed record Reply(int Status, string Body, bool Hang = false, params (string Name, string Value)[] Headers)
    {
        public static Reply Ok(string resultJson) => new(200, "{\"ok\":true,\"result\":" + resultJson + "}");
    }

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<Request, Reply> _handler;
    private readonly Task _loop;

    public ScriptedToncenter(Func<Request, Reply> handler)
    {
        _handler = handler;
        _listener.Start();
        _loop = Task.Run(AcceptLoop);
    }

    public ConcurrentQueue<Request> Requests { get; } = new();

    public Uri Endpoint => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/api/v2");

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }
            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var head = new StringBuilder();
                var buffer = new byte[1];
                while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
                {
                    if (await stream.ReadAsync(buffer, _stop.Token) == 0)
                    {
                        return;
                    }
                    head.Append((char)buffer[0]);
                }
                var lines = head.ToString().Split("\r\n");
                var parts = lines[0].Split(' ');
                var headers = lines.Skip(1).Where(l => l.Contains(':', StringComparison.Ordinal))
                    .ToDictionary(l => l[..l.IndexOf(':', StringComparison.Ordinal)].Trim(), l => l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim(),
                        StringComparer.OrdinalIgnoreCase);
                var length = headers.TryGetValue("Content-Length", out var cl) ? int.Parse(cl, System.Globalization.CultureInfo.InvariantCulture) : 0;
                var body = new byte[length];
                var read = 0;
                while (read < length)
                {
                    var n = await stream.ReadAsync(body.AsMemory(read), _stop.Token);
                    if (n == 0)
                    {
                        return;
                    }
                    read += n;
                }
                var target = parts[1];
                var q = target.IndexOf('?', StringComparison.Ordinal);
                var request = new Request(parts[0], q < 0 ? target : target[..q], q < 0 ? "" : target[(q + 1)..], headers, Encoding.UTF8.GetString(body));
                Requests.Enqueue(request);
                var reply = _handler(request);
                if (reply.Hang)
                {
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                    return;
                }
                var payload = Encoding.UTF8.GetBytes(reply.Body);
                var response = new StringBuilder()
                    .Append(System.Globalization.CultureInfo.InvariantCulture, $"HTTP/1.1 {reply.Status} X\r\nContent-Type: application/json\r\nContent-Length: {payload.Length}\r\nConnection: close\r\n");
                foreach (var (name, value) in reply.Headers)
                {
                    response.Append(System.Globalization.CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
                }
                response.Append("\r\n");
                await stream.WriteAsync(Encoding.ASCII.GetBytes(response.ToString()), _stop.Token);
                await stream.WriteAsync(payload, _stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
            }
            catch (IOException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}
