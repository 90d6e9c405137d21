using Duckton.Core.Configuration;

namespace Duckton.Core.Tests.Configuration;

public class ConfigPathsTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] vars) =>
        name => vars.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void Explicit_directory_wins()
    {
        var dir = ConfigPaths.ResolveConfigDirectory("/srv/duckton", Env(("P2P_CONFIG_DIR", "/env/dir"), ("XDG_CONFIG_HOME", "/xdg")));
        Assert.Equal("/srv/duckton", dir);
    }

    [Fact]
    public void Then_P2P_CONFIG_DIR_then_XDG_then_home()
    {
        Assert.Equal("/env/dir", ConfigPaths.ResolveConfigDirectory(null, Env(("P2P_CONFIG_DIR", "/env/dir"), ("XDG_CONFIG_HOME", "/xdg"))));
        Assert.Equal("/xdg/duckdb-p2p", ConfigPaths.ResolveConfigDirectory("", Env(("XDG_CONFIG_HOME", "/xdg"), ("HOME", "/home/ann"))));
        Assert.Equal("/home/ann/.config/duckdb-p2p", ConfigPaths.ResolveConfigDirectory(null, Env(("HOME", "/home/ann"))));
        // A relative XDG_CONFIG_HOME is invalid per the XDG spec and ignored.
        Assert.Equal("/home/ann/.config/duckdb-p2p", ConfigPaths.ResolveConfigDirectory(null, Env(("XDG_CONFIG_HOME", "rel"), ("HOME", "/home/ann"))));
        Assert.Equal("/home/bob/.config/duckdb-p2p", ConfigPaths.ResolveConfigDirectory(null, Env(), homeDirectory: "/home/bob"));
    }

    [Fact]
    public void Runtime_file_defaults_to_the_config_directory()
    {
        Assert.Equal("/c/runtime.toml", ConfigPaths.RuntimeFile("/c", Env()));
        Assert.Equal("/r/rt.toml", ConfigPaths.RuntimeFile("/c", Env(("P2P_RUNTIME_CONFIG", "/r/rt.toml"))));
    }

    [Fact]
    public void Store_open_uses_the_resolution()
    {
        var store = ConfigStore.Open(null, Env(("P2P_CONFIG_DIR", "/tmp/duckton-x")));
        Assert.Equal("/tmp/duckton-x", store.ConfigDirectory);
        Assert.Equal("/tmp/duckton-x/runtime.toml", store.RuntimeFilePath);
    }
}
