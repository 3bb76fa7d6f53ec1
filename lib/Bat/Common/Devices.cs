using TorchSharp;

namespace Bat;

/// <summary>
/// Device choice: CUDA when the CUDA build of TorchSharp is in use and a GPU is visible, else CPU.
/// BAT_DEVICE=cpu|cuda|cuda:N overrides. This is the only place the code branches on the device.
/// </summary>
public static class Devices
{
    public static torch.Device Default => Pick(Environment.GetEnvironmentVariable("BAT_DEVICE"));

    public static torch.Device Pick(string? requested)
    {
        if (!string.IsNullOrWhiteSpace(requested))
        {
            var device = torch.device(requested);
            if (device.type == DeviceType.CUDA && !torch.cuda.is_available())
                throw new BatException("BAT_DEVICE", $"'{requested}' requested but CUDA is not available in this build or machine");
            return device;
        }
        return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
    }

    /// <summary>Seeds every random source the suite uses, so a run is reproducible from its config.</summary>
    public static void Seed(long seed)
    {
        torch.manual_seed(seed);
        if (torch.cuda.is_available()) torch.cuda.manual_seed_all(seed);
    }
}
