"""Console pages with a big catalogue: each page's time against the API calls it makes.

Ours: a console page (GET through the console, which calls the services over HTTP and renders the
template). Baseline: the same API calls made directly, one after the other, with the same token:
what the page cannot avoid. The ratio is the console's own cost (session, HTTP hops, rendering);
the absolute median is printed against the issue's 100 ms budget per page. The catalogue is loaded
with one real inventory import (N products, 20 categories, 20 suppliers) into one store.

    .venv/bin/python bench/console_pages.py                    # 100,000 products
    .venv/bin/python bench/console_pages.py --products 20000 --repeat 10

Machines here are shared and noisy: read the ratio, not the absolute milliseconds.
"""

from __future__ import annotations

import argparse
import io
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.conftest import Client, login  # noqa: E402
from tests.servers import RedisServer, Stack, wait_until  # noqa: E402

BUDGET_MS = 100
PAGE = 25


def catalogue_csv(products: int) -> bytes:
    out = io.StringIO()
    out.write("SKU,Nombre,Stock,Precio,Stock minimo,Categoria,Proveedor\n")
    for n in range(products):
        out.write(f"SKU-{n:06d},Producto {n} para mascotas,{n % 50},{(n % 900) + 0.99:.2f},10,Categoria {n % 20},Proveedor {n % 20}\n")
    return out.getvalue().encode()


def console_session(stack: Stack, password: str) -> httpx.Client:
    browser = httpx.Client(base_url=stack.url("console"), timeout=60)
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text).group(1)
    response = browser.post("/login", data={"username": "admin", "password": password, "csrf_token": token})
    assert response.status_code == 303, response.text
    return browser


def median_ms(call, repeat: int) -> float:
    call()  # warm: the first call opens connections
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="timon-bench-") as tmp:
        base = Path(tmp)
        redis_server = RedisServer(base / "redis", base / "logs").start()
        stack = Stack(base_dir=base / "stack", database_url=f"sqlite:///{base / 'bench.db'}", redis_url=redis_server.url,
                      console=True, extra_env={"MAX_UPLOAD_MB": "50"})
        try:
            stack.start(workers=1)
            admin = Client(stack, login(stack, "admin", stack.admin_password))
            store = admin.post("petshop", "/tiendas/", json={"name": "Tienda Bench"}).json()
            started = time.perf_counter()
            job = admin.post("petshop", "/upload-inventario/", data={"store_id": str(store["id"])},
                             files={"file": ("catalogo.csv", catalogue_csv(args.products), "text/csv")}).json()
            done = wait_until(lambda: (j := admin.get("petshop", f"/jobs/{job['task_id']}").json())["status"]
                              in ("completed", "failed") and j, timeout=1800, interval=0.5, what="catalogue import")
            assert done["status"] == "completed", done
            print(f"catalogue: {args.products} products imported in {time.perf_counter() - started:.1f} s")
            supplier = admin.get("petshop", "/proveedores/", params={"limit": 500}).json()[3]["id"]
            deep = f"SKU-{args.products * 9 // 10:06d}"  # a cursor 90 % of the way into the catalogue
            last = (args.products - 1) // PAGE * PAGE
            browser = console_session(stack, stack.admin_password)
            shop = f"/tiendas/{store['id']}/stock/"
            lists = [("petshop", "/tiendas/", {"limit": 500}), ("petshop", "/categorias/", {"limit": 500}),
                     ("petshop", "/proveedores/", {"limit": 500})]
            pages = [
                ("productos, página 1", f"/tienda/productos?tienda={store['id']}",
                 [*lists, ("petshop", shop, {"limit": PAGE + 1})]),
                ("productos, búsqueda", f"/tienda/productos?tienda={store['id']}&q=SKU-0999",
                 [*lists, ("petshop", shop, {"q": "SKU-0999", "limit": PAGE + 1})]),
                ("productos, a 90 %", f"/tienda/productos?tienda={store['id']}&despues={deep}",
                 [*lists, ("petshop", shop, {"after_sku": deep, "limit": PAGE + 1})]),
                ("productos, última página", f"/tienda/productos?tienda={store['id']}&ultima=1",
                 [*lists, ("petshop", shop, {"last": "true", "limit": PAGE + 1})]),
                ("productos, stock bajo", f"/tienda/productos?tienda={store['id']}&bajo=1",
                 [*lists, ("petshop", shop, {"low": "true", "limit": PAGE + 1})]),
                ("stock por proveedor", f"/tienda/productos?tienda={store['id']}&proveedor={supplier}",
                 [*lists, ("petshop", shop, {"supplier_id": supplier, "limit": PAGE + 1})]),
                ("catálogo por proveedor", f"/tienda/productos?tienda=catalogo&proveedor={supplier}",
                 [*lists, ("petshop", "/productos/", {"supplier_id": supplier, "limit": PAGE + 1})]),
                ("ventas, búsqueda", f"/tienda/ventas?tienda={store['id']}&q=SKU-0999",
                 [("petshop", "/tiendas/", {"limit": 500}), ("petshop", shop, {"q": "SKU-0999", "limit": 10}),
                  ("petshop", f"/tiendas/{store['id']}/ventas/", {"limit": 20})]),
                ("precios", "/tienda/precios", lists),
                ("informes", "/tienda/informes", lists[:1]),
                ("usuarios", "/admin/usuarios", [("auth", "/users/", {"limit": 51})]),
                ("trabajos", "/trabajos", [("petshop", "/jobs/", {"limit": 50}), ("veterinaria", "/jobs/", {"limit": 50})]),
            ]
            # the baseline pools its connections too, as the console's own client does
            api_client = httpx.Client(headers=admin.headers, timeout=60)

            def direct(calls):
                for service, api_path, params in calls:
                    assert api_client.get(f"{stack.url(service)}{api_path}", params=params).status_code == 200

            print(f"\n{'page':<26} {'console ms':>11} {'API ms':>8} {'ratio':>6}  budget {BUDGET_MS} ms")
            worst = 0.0
            for name, path, calls in pages:
                assert browser.get(path).status_code == 200, path
                ours = median_ms(lambda p=path: browser.get(p), args.repeat)
                api = median_ms(lambda c=calls: direct(c), args.repeat)
                worst = max(worst, ours)
                print(f"{name:<26} {ours:>11.1f} {api:>8.1f} {ours / api:>6.2f}  {'ok' if ours < BUDGET_MS else 'OVER'}")
            # what the cursor saves: the API's last page by offset (the console's way until now) against by cursor
            by_offset = median_ms(lambda: direct([("petshop", shop, {"limit": PAGE + 1, "offset": last})]), args.repeat)
            by_cursor = median_ms(lambda: direct([("petshop", shop, {"limit": PAGE + 1, "last": "true"})]), args.repeat)
            print(f"\nAPI last page: by offset {by_offset:.1f} ms (baseline), by cursor {by_cursor:.1f} ms, "
                  f"ratio {by_cursor / by_offset:.2f}")
            print(f"\nslowest page: {worst:.1f} ms ({'within' if worst < BUDGET_MS else 'over'} the {BUDGET_MS} ms budget)")
        finally:
            stack.stop()
            redis_server.stop()


if __name__ == "__main__":
    main()
