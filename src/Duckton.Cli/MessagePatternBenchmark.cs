using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Duckton.Node.Grid.Execution;

namespace Duckton.Cli;

/// <summary>
/// The message pattern of one small verified query with nothing else in it, for <c>bench grid</c>: what the processes
/// and their messages alone cost on this machine. This process sends one request over TLS 1.3 to each of three host
/// processes; each host passes a job over a pipe to its own worker process, reads the worker's answer and sends a
/// reply; a round ends when all three replies are in. No DuckDB, no signatures, no trust bookkeeping, no protocol state:
/// beside the small query's CPU and its floor of executions and signatures, it is what any design with this isolation (a
/// process per host, a worker process per host's jobs) pays here before doing any work. Measured two ways: every process
/// awaiting its reads and writes on the thread pool (how duckton's nodes are written), and every process one thread
/// blocked in read (the fewest wake-ups possible).
/// </summary>
internal static class MessagePatternBenchmark
{
    /// <summary>Hidden subcommands: a host of the pattern (<c>HostRole async|blocking</c>) and its worker.</summary>
    public const string HostRole = "bench-pattern-host";
    public const string WorkerRole = "bench-pattern-worker";

    private const int Hosts = 3;
    // Close to a `SELECT 42` query's: Offer + Dispatch, the job to the worker, its encoded answer, Commit + rows + End.
    public const int RequestBytes = 700;
    public const int JobBytes = 200;
    public const int AnswerBytes = 300;
    public const int ReplyBytes = 500;

    public readonly record struct Result(string Mode, double RequesterMs, double HostsMs, double WorkersMs, double P50, double P99, double Switches)
    {
        public double TotalMs => RequesterMs + HostsMs + WorkersMs;
    }

    /// <summary>Runs <paramref name="rounds"/> measured rounds (after half as many unmeasured: JIT, pool sizing) with awaited I/O, then with blocking reads.</summary>
    public static IReadOnlyList<Result> Run(int rounds) => [RunMode("async", rounds), RunMode("blocking", rounds)];

    private static Result RunMode(string mode, int rounds)
    {
        var hosts = new List<(Process Host, int WorkerPid, SslStream Stream)>();
        try
        {
            for (var i = 0; i < Hosts; i++)
            {
                var host = Start(HostRole, mode);
                var line = host.StandardOutput.ReadLine()?.Split(' ') ?? throw new InvalidOperationException("a pattern host exited before listening");
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                socket.Connect(IPAddress.Loopback, int.Parse(line[0], CultureInfo.InvariantCulture));
                var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true));
                ssl.AuthenticateAsClient(new SslClientAuthenticationOptions
                {
                    TargetHost = "host",
                    EnabledSslProtocols = SslProtocols.Tls13,
                    // The handshake is not what this measures (the nodes' connections are pooled): any certificate will do.
                    RemoteCertificateValidationCallback = static (_, _, _, _) => true,
                });
                hosts.Add((host, int.Parse(line[1], CultureInfo.InvariantCulture), ssl));
            }
            var request = new byte[RequestBytes];
            RandomNumberGenerator.Fill(request);
            var replies = hosts.Select(_ => new byte[ReplyBytes]).ToArray();
            var streams = hosts.Select(h => h.Stream).ToArray();
            Action round = mode == "async"
                ? () => Task.WhenAll(streams.Select((s, i) => ExchangeAsync(s, request, replies[i]))).GetAwaiter().GetResult()
                : () => ExchangeBlocking(streams, request, replies);
            for (var i = 0; i < Math.Max(1, rounds / 2); i++)
            {
                round();
            }
            var pids = hosts.SelectMany(h => new[] { h.Host.Id, h.WorkerPid }).ToArray();
            var before = pids.Select(OwnCpuMs).ToArray();
            var switches = pids.Append(Environment.ProcessId).Sum(GridBenchmark.Switches);
            var requester = Environment.CpuUsage.TotalTime;
            var times = new double[rounds];
            for (var i = 0; i < rounds; i++)
            {
                var started = Stopwatch.GetTimestamp();
                round();
                times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
            var requesterMs = (Environment.CpuUsage.TotalTime - requester).TotalMilliseconds / rounds;
            switches = pids.Append(Environment.ProcessId).Sum(GridBenchmark.Switches) - switches;
            double hostsMs = 0, workersMs = 0;
            for (var i = 0; i < pids.Length; i++)
            {
                var ms = (OwnCpuMs(pids[i]) - before[i]) / rounds;
                if (i % 2 == 0)
                {
                    hostsMs += ms;
                }
                else
                {
                    workersMs += ms;
                }
            }
            Array.Sort(times);
            return new Result(mode, requesterMs, hostsMs, workersMs, times[rounds / 2], GridBenchmark.P99(times), switches / (double)rounds);
        }
        finally
        {
            foreach (var (host, _, stream) in hosts)
            {
                stream.Dispose(); // the host reads the end of its stream, closes its worker's pipe and exits
                if (!host.WaitForExit(5_000))
                {
                    host.Kill(entireProcessTree: true);
                }
                host.Dispose();
            }
        }
    }

    private static async Task ExchangeAsync(SslStream stream, byte[] request, byte[] reply)
    {
        await WriteFrameAsync(stream, request).ConfigureAwait(false);
        await ReadFrameAsync(stream, reply).ConfigureAwait(false);
    }

    private static void ExchangeBlocking(SslStream[] streams, byte[] request, byte[][] replies)
    {
        foreach (var s in streams)
        {
            WriteFrame(s, request);
        }
        for (var i = 0; i < streams.Length; i++)
        {
            ReadFrame(streams[i], replies[i]);
        }
    }

    /// <summary>A pattern host: listens on loopback, starts its worker, prints "port worker-pid", serves one requester until it closes.</summary>
    public static int Host(string mode)
    {
        if (mode is not ("async" or "blocking"))
        {
            Console.Error.WriteLine($"{HostRole}: the mode is async or blocking, not '{mode}'");
            return 2;
        }
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var cert = new CertificateRequest("CN=host", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var worker = Start(WorkerRole, null);
        Console.Out.WriteLine($"{((IPEndPoint)listener.LocalEndpoint).Port} {worker.Id}");
        Console.Out.Flush();
        using var socket = listener.AcceptSocket();
        socket.NoDelay = true;
        using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false));
        ssl.AuthenticateAsServer(new SslServerAuthenticationOptions { ServerCertificate = cert, EnabledSslProtocols = SslProtocols.Tls13 });
        var toWorker = worker.StandardInput.BaseStream;
        var fromWorker = worker.StandardOutput.BaseStream;
        var (request, job, answer, reply) = (new byte[RequestBytes], new byte[JobBytes], new byte[AnswerBytes], new byte[ReplyBytes]);
        try
        {
            if (mode == "async")
            {
                ServeAsync().GetAwaiter().GetResult();
            }
            else
            {
                while (true)
                {
                    ReadFrame(ssl, request);
                    WriteFrame(toWorker, job);
                    ReadFrame(fromWorker, answer);
                    WriteFrame(ssl, reply);
                }
            }
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            // The requester closed: the run is over.
        }
        toWorker.Close();
        worker.WaitForExit();
        return 0;

        async Task ServeAsync()
        {
            while (true)
            {
                await ReadFrameAsync(ssl, request).ConfigureAwait(false);
                await WriteFrameAsync(toWorker, job).ConfigureAwait(false);
                await ReadFrameAsync(fromWorker, answer).ConfigureAwait(false);
                await WriteFrameAsync(ssl, reply).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A pattern worker: answers each job on its stdin with an answer on its stdout, one thread blocked in read.</summary>
    public static int Worker()
    {
        using var input = Console.OpenStandardInput();
        using var output = Console.OpenStandardOutput();
        var (job, answer) = (new byte[JobBytes], new byte[AnswerBytes]);
        try
        {
            while (true)
            {
                ReadFrame(input, job);
                WriteFrame(output, answer);
            }
        }
        catch (EndOfStreamException)
        {
            return 0;
        }
    }

    /// <summary>This program again, in a pattern role (the same command a host uses to start its sandbox workers).</summary>
    private static Process Start(string role, string? mode)
    {
        var command = JobExecutors.WorkerCommand ?? throw new InvalidOperationException("cannot tell how to start this program again");
        var info = new ProcessStartInfo(command[0]) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in command.Skip(1).Append(role))
        {
            info.ArgumentList.Add(arg);
        }
        if (mode is not null)
        {
            info.ArgumentList.Add(mode);
        }
        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {role}");
    }

    // A frame: a 4-byte big-endian length, then the payload (whose length both sides know: the header is checked).
    private static byte[] Framed(byte[] payload)
    {
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, payload.Length);
        payload.CopyTo(frame, 4);
        return frame;
    }

    private static void WriteFrame(Stream s, byte[] payload)
    {
        s.Write(Framed(payload));
        s.Flush();
    }

    private static async Task WriteFrameAsync(Stream s, byte[] payload)
    {
        await s.WriteAsync(Framed(payload)).ConfigureAwait(false);
        await s.FlushAsync().ConfigureAwait(false);
    }

    private static void ReadFrame(Stream s, byte[] payload)
    {
        Span<byte> header = stackalloc byte[4];
        s.ReadExactly(header);
        CheckLength(BinaryPrimitives.ReadInt32BigEndian(header), payload);
        s.ReadExactly(payload);
    }

    private static async Task ReadFrameAsync(Stream s, byte[] payload)
    {
        var header = new byte[4];
        await s.ReadExactlyAsync(header).ConfigureAwait(false);
        CheckLength(BinaryPrimitives.ReadInt32BigEndian(header), payload);
        await s.ReadExactlyAsync(payload).ConfigureAwait(false);
    }

    private static void CheckLength(int length, byte[] payload)
    {
        if (length != payload.Length)
        {
            throw new InvalidDataException($"a frame of {length} bytes where {payload.Length} were expected");
        }
    }

    private static double OwnCpuMs(int pid) => GridBenchmark.ProcStat(pid)?.Own ?? throw new InvalidOperationException($"pattern process {pid} is gone");
}
