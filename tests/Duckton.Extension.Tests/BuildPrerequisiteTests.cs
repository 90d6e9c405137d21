namespace Duckton.Extension.Tests;

/// <summary>
/// eng/check-openssl-static.sh, which the extension's publish runs before linking OpenSSL in: on a machine without
/// OpenSSL's static libraries, headers or cmake it must say what is missing and how to install it.
/// </summary>
public sealed class BuildPrerequisiteTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-prereq-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Script => Path.Combine(ExtensionBuild.RepoRoot, "eng", "check-openssl-static.sh");

    private ProcessResult Check(string compiler, string? path = null) =>
        ProcessRunner.Run("/bin/bash", [Script, compiler], _dir, path is null ? null : new Dictionary<string, string?> { ["PATH"] = path }, TimeSpan.FromMinutes(1));

    [Fact]
    public void This_machine_has_what_the_static_OpenSSL_link_needs()
    {
        var result = Check("gcc");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public void A_compiler_that_finds_no_OpenSSL_gets_a_list_of_what_is_missing_and_the_package_to_install()
    {
        // A stand-in compiler for a machine without libssl-dev: it finds no archive and no header.
        var compiler = Path.Combine(_dir, "cc-without-openssl");
        File.WriteAllText(compiler, "#!/bin/bash\ncase \"$1\" in -print-file-name=*) echo \"${1#-print-file-name=}\";; *) exit 1;; esac\n");
        File.SetUnixFileMode(compiler, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var result = Check(compiler);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("The extension links OpenSSL statically", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("- libssl.a", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("- libcrypto.a", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("- openssl/ssl.h", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("apt-get install libssl-dev;", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_machine_without_cmake_is_told_to_install_it()
    {
        // A PATH with the compiler and make but no cmake.
        var bin = Path.Combine(_dir, "bin");
        Directory.CreateDirectory(bin);
        foreach (var tool in new[] { "bash", "gcc", "make", "sort", "tr" })
        {
            var target = new[] { "/usr/bin", "/bin" }.Select(d => Path.Combine(d, tool)).First(File.Exists);
            File.CreateSymbolicLink(Path.Combine(bin, tool), target);
        }
        var result = Check("gcc", bin);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("- cmake", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("- make", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("apt-get install cmake;", result.Stderr, StringComparison.Ordinal);
    }
}
