using System.Diagnostics;
using Duckton.Core.Hashing;

namespace Duckton.Core.Tests.Hashing;

/// <summary>
/// A fact that needs Debian's <c>b3sum</c>: skipped where it is missing, except under CI (CI=true),
/// where a missing tool must fail the run rather than silently skip the cross-check.
/// </summary>
public sealed class B3sumFactAttribute : FactAttribute
{
    public B3sumFactAttribute()
    {
        if (B3sum.Path is null && !B3sum.IsCi)
        {
            Skip = "b3sum is not installed (apt-get install b3sum); under CI=true this test fails instead";
        }
    }
}

internal static class B3sum
{
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string? Path { get; } = Find();

    private static string? Find()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = System.IO.Path.Combine(dir, "b3sum");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>Runs b3sum on a file and returns its hex output.</summary>
    public static string Run(string file, params string[] options)
    {
        var exe = Path ?? throw new InvalidOperationException("b3sum not found on PATH; install it with: apt-get install -y b3sum");
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var o in options)
        {
            psi.ArgumentList.Add(o);
        }
        psi.ArgumentList.Add("--no-names");
        psi.ArgumentList.Add(file);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"b3sum failed: {stderr}");
        return stdout.Trim();
    }
}

public class B3sumAgreementTests
{
    [B3sumFact]
    public void Agrees_with_b3sum_on_random_inputs_in_all_modes()
    {
        var rng = new Random(20250101);
        var dir = Directory.CreateTempSubdirectory("duckton-b3sum-");
        try
        {
            var key = new byte[32];
            rng.NextBytes(key);
            var keyFile = Path.Combine(dir.FullName, "key");
            File.WriteAllBytes(keyFile, key);
            const string Context = "duckton b3sum agreement test context";

            foreach (var size in new[] { 0, 1, 63, 64, 65, 1023, 1024, 1025, 2048, 3073, 8193, 31 * 1024 + 5, (1 << 20) + 17 })
            {
                var input = new byte[size];
                rng.NextBytes(input);
                var file = Path.Combine(dir.FullName, $"in-{size}");
                File.WriteAllBytes(file, input);

                Assert.Equal(B3sum.Run(file), Convert.ToHexStringLower(Blake3.Hash(input)));
                var xof = new byte[200];
                Blake3.Hash(input, xof);
                Assert.Equal(B3sum.Run(file, "--length", "200"), Convert.ToHexStringLower(xof));
                Assert.Equal(B3sum.Run(file, "--derive-key", Context), Convert.ToHexStringLower(Blake3.DeriveKey(Context, input)));
                Assert.Equal(RunKeyed(file, keyFile), Convert.ToHexStringLower(Blake3.KeyedHash(key, input)));
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>b3sum --keyed reads the key from standard input.</summary>
    private static string RunKeyed(string file, string keyFile)
    {
        var exe = B3sum.Path ?? throw new InvalidOperationException("b3sum not found");
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add("--keyed");
        psi.ArgumentList.Add("--no-names");
        psi.ArgumentList.Add(file);
        using var p = Process.Start(psi)!;
        p.StandardInput.BaseStream.Write(File.ReadAllBytes(keyFile));
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return stdout.Trim();
    }
}
