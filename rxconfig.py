import os

import reflex as rx

config = rx.Config(
    app_name="vdi_taxi",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(appearance="dark", accent_color="indigo", gray_color="slate", radius="large")
        ),
    ],
    disable_plugins=["reflex.plugins.sitemap.SitemapPlugin"],
    frontend_port=int(os.environ.get("VDI_PORT", "3000")),
    backend_port=int(os.environ.get("VDI_PORT", "3000")),
)
