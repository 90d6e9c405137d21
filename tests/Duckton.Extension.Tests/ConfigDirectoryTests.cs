using Duckton.Node;

namespace Duckton.Extension.Tests;

/// <summary>The extension's node finds its configuration where the CLI does.</summary>
public class ConfigDirectoryTests
{
    private static string Resolve(string? explicitDir, params (string Name, string Value)[] env)
    {
        var map = env.ToDictionary(e => e.Name, e => e.Value);
        return ConfigDirectory.Resolve(explicitDir, name => map.GetValueOrDefault(name));
    }

    [Fact]
    public void An_explicit_directory_wins() =>
        Assert.Equal("/opt/a", Resolve("/opt/a", ("P2P_CONFIG_DIR", "/opt/b"), ("XDG_CONFIG_HOME", "/x"), ("HOME", "/home/u")));

    [Fact]
    public void P2P_CONFIG_DIR_comes_next() =>
        Assert.Equal("/opt/b", Resolve(null, ("P2P_CONFIG_DIR", "/opt/b"), ("XDG_CONFIG_HOME", "/x"), ("HOME", "/home/u")));

    [Fact]
    public void Then_XDG_CONFIG_HOME() =>
        Assert.Equal("/x/duckdb-p2p", Resolve(null, ("XDG_CONFIG_HOME", "/x"), ("HOME", "/home/u")));

    [Fact]
    public void A_relative_XDG_CONFIG_HOME_is_ignored() =>
        Assert.Equal("/home/u/.config/duckdb-p2p", Resolve(null, ("XDG_CONFIG_HOME", "relative"), ("HOME", "/home/u")));

    [Fact]
    public void Else_the_home_config_directory() =>
        Assert.Equal("/home/u/.config/duckdb-p2p", Resolve(null, ("P2P_CONFIG_DIR", "  "), ("HOME", "/home/u")));

    [Fact]
    public void A_relative_directory_becomes_absolute() =>
        Assert.Equal(Path.GetFullPath("conf"), Resolve(null, ("P2P_CONFIG_DIR", "conf")));
}
