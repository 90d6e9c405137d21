using System.Collections.Concurrent;
using System.Net;
using Duckton.Core.Configuration;
using Microsoft.Extensions.Logging;

namespace Duckton.Transport.Tests;

/// <summary>A temporary directory removed at dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "duckton-transport-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Collects log lines so tests can assert that failures were observed.</summary>
internal sealed class ListLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, EventId Id, string Message, Exception? Exception)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, eventId, formatter(state, exception), exception));

    public async Task<(LogLevel Level, EventId Id, string Message, Exception? Exception)> WaitForAsync(Func<(LogLevel Level, EventId Id, string Message, Exception? Exception), bool> match)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            foreach (var e in Entries)
            {
                if (match(e))
                {
                    return e;
                }
            }
            await Task.Delay(10);
        }
        throw new TimeoutException("expected log entry never appeared; got: " + string.Join(" | ", Entries.Select(e => e.Message)));
    }
}

internal static class Loopback
{
    public static readonly IPEndPoint Any = new(IPAddress.Loopback, 0);

    /// <summary>Options with in-memory pins (ephemeral identities) and a short handshake timeout.</summary>
    public static TransportOptions Options(ListLogger? logger = null) => new()
    {
        HandshakeTimeout = TimeSpan.FromSeconds(5),
        Logger = logger ?? new ListLogger(),
    };

    public static string Address(PeerListener listener) => $"127.0.0.1:{listener.LocalEndPoint.Port}";

    /// <summary>Echoes every frame back with the same type until the peer closes.</summary>
    public static async Task Echo(PeerConnection connection, CancellationToken ct)
    {
        while (true)
        {
            Frame frame;
            try
            {
                frame = await connection.ReceiveAsync(ct);
            }
            catch (EndOfStreamException)
            {
                return;
            }
            await connection.SendAsync(frame.Type, frame.Payload, ct);
        }
    }

    public static PinningMode Tofu => PinningMode.Tofu;
}
