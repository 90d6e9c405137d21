using BenchmarkDotNet.Running;
using Duckton.Benchmarks;

if (args.Length == 2 && args[0] == "--b3sum-compare")
{
    return B3sumCompare.Run(args[1]);
}
if (args.Length >= 1 && args[0] == "--transport")
{
    return await TransportRun.RunAsync(args.Length > 1 ? long.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1024);
}
if (args.Length == 1 && args[0] == "--config")
{
    return ConfigRun.Run();
}
if (args.Length >= 1 && args[0] == "--verify")
{
    return VerifyRun.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : Math.Clamp(Environment.ProcessorCount, 1, 4));
}
if (args.Length >= 1 && args[0] == "--worker-job")
{
    return WorkerJobRun.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5_000);
}
if (args.Length >= 1 && args[0] == "--trust-flush")
{
    var jobs = args.Length > 1 ? args[1].Split(',').Select(r => int.Parse(r, System.Globalization.CultureInfo.InvariantCulture)).ToArray() : [0, 1, 10, 25];
    return TrustFlushRun.Run(jobs, args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 300);
}
if (args.Length == 1 && args[0] == "--quick")
{
    return QuickRun.Run();
}
BenchmarkSwitcher.FromAssembly(typeof(B3sumCompare).Assembly).Run(args);
return 0;
