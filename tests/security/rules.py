"""Who may call what: the table the auth matrix holds every route to.

Keyed by (method, path template) exactly as each service's OpenAPI names them (the console's routes
as its FastAPI app lists them). A route missing here fails the matrix, and so does a rule for a route
that no longer exists: adding a route means deciding, here, who may call it.

Admins pass every role check; PUBLIC needs no token; ANY is every logged-in role (what each sees is
then filtered by owner: the id-guessing test covers that).
"""

from __future__ import annotations

PUBLIC = frozenset()
ANY = frozenset({"admin", "veterinario", "empleado", "cliente"})
ADMIN = frozenset({"admin"})
VET = frozenset({"admin", "veterinario"})
CLINIC = VET | {"cliente"}  # vets, and owners for their own pets
SHOP = frozenset({"admin", "empleado"})


def _jobs_and_schedules() -> dict[tuple[str, str], frozenset]:
    return {
        ("GET", "/jobs/"): ANY, ("GET", "/jobs/{job_id}"): ANY, ("POST", "/jobs/{job_id}/cancel"): ANY,
        ("POST", "/jobs/{job_id}/retry"): ADMIN, ("POST", "/jobs/diagnostic"): ADMIN,
        ("GET", "/schedules/kinds"): ADMIN, ("POST", "/schedules/"): ADMIN, ("GET", "/schedules/"): ADMIN,
        ("GET", "/schedules/{schedule_id}"): ADMIN, ("DELETE", "/schedules/{schedule_id}"): ADMIN,
        ("POST", "/schedules/{schedule_id}/pause"): ADMIN, ("POST", "/schedules/{schedule_id}/resume"): ADMIN,
    }


SERVICE_RULES: dict[str, dict[tuple[str, str], frozenset]] = {
    "auth": {
        ("GET", "/health"): PUBLIC, ("POST", "/token"): PUBLIC,
        ("GET", "/users/me"): ANY,
        ("GET", "/users/"): ADMIN, ("POST", "/users/"): ADMIN,
        ("GET", "/users/{user_id}"): ADMIN, ("PATCH", "/users/{user_id}"): ADMIN,
        ("GET", "/users/me/notificaciones"): ANY, ("PUT", "/users/me/notificaciones"): ANY,
        ("GET", "/users/me/notificaciones/webhooks"): ANY, ("POST", "/users/me/notificaciones/webhooks"): ANY,
        ("PATCH", "/users/me/notificaciones/webhooks/{webhook_id}"): ANY,
        ("DELETE", "/users/me/notificaciones/webhooks/{webhook_id}"): ANY,
        ("GET", "/users/me/notificaciones/entregas"): ANY,
        ("GET", "/notificaciones/entregas"): ADMIN,
    },
    "veterinaria": {
        ("GET", "/health"): PUBLIC,
        ("POST", "/propietarios/"): VET, ("GET", "/propietarios/"): VET,
        ("GET", "/propietarios/{owner_id}"): CLINIC, ("PATCH", "/propietarios/{owner_id}"): VET,
        ("GET", "/propietarios/{owner_id}/mascotas/"): CLINIC,
        ("POST", "/mascotas/"): VET, ("GET", "/mascotas/"): CLINIC,
        ("GET", "/mascotas/{mascota_id}"): CLINIC, ("PATCH", "/mascotas/{mascota_id}"): VET,
        ("GET", "/mascotas/{mascota_id}/historia"): CLINIC, ("PATCH", "/mascotas/{mascota_id}/historia"): VET,
        ("POST", "/mascotas/{mascota_id}/consultas/"): VET, ("GET", "/mascotas/{mascota_id}/consultas/"): CLINIC,
        ("GET", "/mascotas/{mascota_id}/documentos/"): CLINIC, ("GET", "/mascotas/{mascota_id}/analiticas/"): CLINIC,
        ("GET", "/documentos/{document_id}"): CLINIC, ("PATCH", "/documentos/{document_id}"): VET,
        ("GET", "/documentos/{document_id}/paginas/{number}"): CLINIC,
        ("GET", "/historias-clinicas/buscar"): CLINIC,
        ("POST", "/historias-clinicas/"): VET,
        ("GET", "/historias-clinicas/task/{task_id}"): ANY,  # by owner: a document job is its uploader's
        ("POST", "/mascotas/{mascota_id}/reportes/"): CLINIC, ("GET", "/mascotas/{mascota_id}/reportes/"): CLINIC,
        ("PATCH", "/documentos/{document_id}/analiticas/{lab_value_id}"): VET,
        ("GET", "/mascotas/{mascota_id}/reportes/{task_id}"): CLINIC,
        ("GET", "/mascotas/{mascota_id}/reportes/{task_id}/pdf"): CLINIC,
        **_jobs_and_schedules(),
    },
    "petshop": {
        ("GET", "/health"): PUBLIC,
        ("GET", "/tiendas/"): SHOP, ("POST", "/tiendas/"): ADMIN,
        ("GET", "/tiendas/{store_id}"): SHOP, ("PATCH", "/tiendas/{store_id}"): ADMIN,
        ("GET", "/categorias/"): SHOP, ("POST", "/categorias/"): SHOP,
        ("GET", "/proveedores/"): SHOP, ("POST", "/proveedores/"): SHOP,
        ("GET", "/productos/"): SHOP, ("POST", "/productos/"): SHOP,
        ("GET", "/productos/{product_id}"): SHOP, ("PATCH", "/productos/{product_id}"): SHOP,
        ("GET", "/tiendas/{store_id}/stock/"): SHOP, ("PUT", "/tiendas/{store_id}/stock/{sku}"): SHOP,
        ("POST", "/tiendas/{store_id}/ventas/"): SHOP, ("GET", "/tiendas/{store_id}/ventas/"): SHOP,
        ("POST", "/upload-inventario/"): SHOP,
        ("GET", "/inventario/task/{task_id}"): SHOP, ("GET", "/inventario/task/{task_id}/errores.csv"): SHOP,
        ("POST", "/productos/precios/"): SHOP, ("POST", "/productos/precios/vista-previa"): SHOP,
        ("GET", "/productos/precios/{task_id}"): SHOP,
        ("POST", "/reportes/inventario/"): SHOP, ("GET", "/reportes/inventario/{task_id}"): SHOP,
        ("GET", "/reportes/inventario/{task_id}/archivo"): SHOP,
        **_jobs_and_schedules(),
    },
}

# the console's pages and forms. These render from the session alone when opened bare (the home's
# name and menu, an empty search box, an empty upload form) and ask no service anything, so a token
# the services refuse shows nothing there either: the first search or upload ends at the login
CONSOLE_SESSION_ONLY = {("GET", "/"), ("GET", "/buscar"), ("GET", "/documentos/subir")}
CONSOLE_RULES: dict[tuple[str, str], frozenset] = {
    ("GET", "/health"): PUBLIC, ("GET", "/login"): PUBLIC, ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): ANY, ("GET", "/"): ANY,
    **{(method, path): SHOP for method, path in [
        ("GET", "/tienda/productos"), ("GET", "/tienda/stock/fila"), ("GET", "/tienda/stock/editar"),
        ("POST", "/tienda/stock"),
        ("GET", "/tienda/importar"), ("POST", "/tienda/importar"), ("POST", "/tienda/importar/{job_id}/columnas"),
        ("POST", "/tienda/importar/{job_id}/aplicar"), ("GET", "/tienda/importar/{job_id}"),
        ("GET", "/tienda/importar/{job_id}/estado"), ("GET", "/tienda/importar/{job_id}/eventos"), ("GET", "/tienda/importar/{job_id}/errores.csv"),
        ("GET", "/tienda/ventas"), ("POST", "/tienda/ventas"),
        ("GET", "/tienda/precios"), ("POST", "/tienda/precios/vista-previa"), ("POST", "/tienda/precios"),
        ("GET", "/tienda/precios/{job_id}"), ("GET", "/tienda/precios/{job_id}/estado"), ("GET", "/tienda/precios/{job_id}/eventos"),
        ("GET", "/tienda/informes"), ("POST", "/tienda/informes"), ("GET", "/tienda/informes/{job_id}"),
        ("GET", "/tienda/informes/{job_id}/estado"), ("GET", "/tienda/informes/{job_id}/eventos"), ("GET", "/tienda/informes/{job_id}/archivo"),
    ]},
    ("GET", "/trabajos"): ANY, ("GET", "/trabajos/tabla"): ANY,
    ("POST", "/trabajos/{service}/{job_id}/cancelar"): ANY, ("POST", "/trabajos/{service}/{job_id}/reintentar"): ANY,
    **{(method, path): CLINIC for method, path in [
        ("GET", "/mascotas"), ("GET", "/mascotas/{pet_id}"), ("POST", "/mascotas/{pet_id}/informes"),
        ("GET", "/mascotas/{pet_id}/informes/{job_id}"), ("GET", "/mascotas/{pet_id}/informes/{job_id}/estado"),
        ("GET", "/mascotas/{pet_id}/informes/{job_id}/pdf"),
        ("GET", "/documentos/{document_id}"), ("GET", "/documentos/{document_id}/paginas/{number}"),
    ]},
    **{(method, path): VET for method, path in [
        ("GET", "/documentos/subir"), ("POST", "/documentos/subir"), ("GET", "/documentos/trabajos/{job_id}"),
        ("GET", "/documentos/trabajos/{job_id}/estado"), ("GET", "/documentos/trabajos/{job_id}/eventos"), ("GET", "/documentos/trabajos/{job_id}/estado.json"),
        ("POST", "/documentos/{document_id}/corregir"), ("POST", "/documentos/{document_id}/mascota"),
        ("POST", "/documentos/{document_id}/analiticas/{lab_value_id}/corregir"),
        ("GET", "/buscar"),
    ]},
    ("GET", "/admin/usuarios"): ADMIN, ("POST", "/admin/usuarios"): ADMIN,
    ("POST", "/admin/usuarios/{user_id}/rol"): ADMIN, ("POST", "/admin/usuarios/{user_id}/activo"): ADMIN,
}
