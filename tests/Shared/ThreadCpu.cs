using System.Diagnostics;
using System.Globalization;

namespace Duckton.Tests.Shared;

/// <summary>
/// CPU time of the calling thread, where Linux tells it (<c>/proc/thread-self/schedstat</c>; elsewhere the process's).
/// Cost tests compare work done on one thread: the process's CPU also counts the test classes xUnit runs beside them.
/// </summary>
internal static class ThreadCpu
{
    public static double Milliseconds() => File.Exists("/proc/thread-self/schedstat")
        ? long.Parse(File.ReadAllText("/proc/thread-self/schedstat").Split(' ')[0], CultureInfo.InvariantCulture) / 1e6
        : Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;
}
