using System.Reflection;
using System.Text;
using Duckton.Node.Grid;

namespace Duckton.Node.Tests;

/// <summary>
/// The libraries the DuckDB extension is built from carry no fault injection: simulated cheaters and flaky hosts are
/// the CLI's demo code (<c>grid up --cheaters/--flaky</c>), so no SQL call can make a host misbehave.
/// </summary>
public sealed class NoSimulatedFaultsTests
{
    private static readonly Assembly[] s_shipped =
    [
        typeof(GridNode).Assembly,                         // Duckton.Node
        typeof(Duckton.Sql.NodeHost).Assembly,             // Duckton.Sql (the extension's SQL surface)
        typeof(Duckton.Engine.LockedDownEngine).Assembly,
        typeof(Duckton.Transport.NodeIdentity).Assembly,
        typeof(Duckton.Core.Data.ResultSet).Assembly,
    ];

    [Fact]
    public void No_library_behind_the_extension_defines_a_simulated_fault()
    {
        foreach (var assembly in s_shipped)
        {
            var types = assembly.GetTypes();
            Assert.DoesNotContain(types, t => t.Name.Contains("SimulatedFault", StringComparison.OrdinalIgnoreCase));
            // The only fault source is the honest one the interface itself provides.
            var sources = types.Where(t => typeof(IJobFaults).IsAssignableFrom(t) && !t.IsInterface).ToList();
            Assert.All(sources, t => Assert.Same(IJobFaults.None.GetType(), t));
        }
    }

    [Fact]
    public void No_library_behind_the_extension_carries_the_self_kill_of_a_simulated_host()
    {
        foreach (var assembly in s_shipped)
        {
            var bytes = File.ReadAllBytes(assembly.Location);
            // User strings are UTF-16 in the metadata.
            Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.Unicode.GetBytes("SIGKILL")));
            Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.Unicode.GetBytes("SIMULATED flaky")));
        }
    }
}
