"""HTTP resources for enterprises, facilities and the catalogues (thin handlers)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.views import MethodView
from flask_smorest.fields import Upload

from carbon_market.emitters import bulk, importing
from carbon_market.emitters import service as svc
from carbon_market.emitters.schemas import (
    CatalogueEntrySchema,
    ContactsUpdateSchema,
    EnterpriseCreateSchema,
    EnterpriseQueryArgsSchema,
    EnterpriseSchema,
    EnterpriseUpdateSchema,
    FacilityCreateSchema,
    FacilitySchema,
    FacilityUpdateSchema,
    ImportResultSchema,
    SectorSchema,
    StatusChangeOutSchema,
    StatusChangeSchema,
)
from carbon_market.kernel.http import Api, Blueprint, current_actor, db_session, page_request
from carbon_market.kernel.schemas import PageArgsSchema, Schema, dump_page, page_of

blp = Blueprint(
    "enterprises",
    __name__,
    url_prefix="/api/v1/enterprises",
    description="Covered enterprises (重点碳排放单位) and their facilities.",
)
catalogues = Blueprint(
    "catalogues",
    __name__,
    url_prefix="/api/v1/catalogues",
    description="Sector and district codes with their Chinese and English labels.",
)
imports = Blueprint(
    "imports",
    __name__,
    url_prefix="/api/v1/imports",
    description="All-or-nothing bulk imports from CSV or XLSX.",
)


class ImportFilesSchema(Schema):
    file = Upload(required=True, metadata={"description": "Enterprises: CSV or XLSX"})
    facilities = Upload(metadata={"description": "Facilities: CSV (or use an XLSX sheet)"})


EnterprisePageSchema = page_of(EnterpriseSchema, "EnterprisePageSchema")
FacilityPageSchema = page_of(FacilitySchema, "FacilityPageSchema")


@blp.route("")
class Enterprises(MethodView):
    @blp.arguments(EnterpriseQueryArgsSchema, location="query")
    @blp.response(200, EnterprisePageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List the enterprises you may see (enterprise users: their own)."""
        page = page_request(args)
        result = svc.list_enterprises(
            db_session(), current_actor(), filters=svc.EnterpriseFilter(**args), page=page
        )
        return dump_page(result)

    @blp.arguments(EnterpriseCreateSchema)
    @blp.response(201, EnterpriseSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Register an enterprise and open its compliance account (regulators)."""
        return svc.register_enterprise(db_session(), current_actor(), **data)


@blp.route("/<int:enterprise_id>")
class EnterpriseById(MethodView):
    @blp.response(200, EnterpriseSchema)
    def get(self, enterprise_id: int) -> Any:
        """One enterprise."""
        return svc.get_enterprise(db_session(), current_actor(), enterprise_id)

    @blp.arguments(EnterpriseUpdateSchema)
    @blp.response(200, EnterpriseSchema)
    def patch(self, data: dict[str, Any], enterprise_id: int) -> Any:
        """Correct names, sector, district or contacts (regulators)."""
        return svc.update_enterprise(db_session(), current_actor(), enterprise_id, changes=data)


@blp.route("/<int:enterprise_id>/contacts")
class EnterpriseContacts(MethodView):
    @blp.arguments(ContactsUpdateSchema)
    @blp.response(200, EnterpriseSchema)
    def put(self, data: dict[str, Any], enterprise_id: int) -> Any:
        """Replace the contacts (regulators and the enterprise's own users)."""
        return svc.update_contacts(db_session(), current_actor(), enterprise_id, **data)


@blp.route("/<int:enterprise_id>/status")
class EnterpriseStatus(MethodView):
    @blp.response(200, StatusChangeOutSchema(many=True))
    def get(self, enterprise_id: int) -> Any:
        """Status history, oldest first."""
        return svc.list_status_history(db_session(), current_actor(), enterprise_id)

    @blp.arguments(StatusChangeSchema)
    @blp.response(200, EnterpriseSchema)
    def post(self, data: dict[str, Any], enterprise_id: int) -> Any:
        """Change the status with an effective date (regulators)."""
        return svc.change_status(db_session(), current_actor(), enterprise_id, **data)


@blp.route("/<int:enterprise_id>/facilities")
class Facilities(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, FacilityPageSchema)
    def get(self, args: dict[str, Any], enterprise_id: int) -> dict[str, Any]:
        """The enterprise's facilities."""
        result = svc.list_facilities(
            db_session(), current_actor(), enterprise_id, page=page_request(args)
        )
        return dump_page(result)

    @blp.arguments(FacilityCreateSchema)
    @blp.response(201, FacilitySchema)
    def post(self, data: dict[str, Any], enterprise_id: int) -> Any:
        """Add a facility (regulators)."""
        return svc.add_facility(db_session(), current_actor(), enterprise_id, **data)


@blp.route("/<int:enterprise_id>/facilities/<int:facility_id>")
class FacilityById(MethodView):
    @blp.response(200, FacilitySchema)
    def get(self, enterprise_id: int, facility_id: int) -> Any:
        """One facility."""
        return svc.get_facility(db_session(), current_actor(), enterprise_id, facility_id)

    @blp.arguments(FacilityUpdateSchema(partial=True))
    @blp.response(200, FacilitySchema)
    def patch(self, data: dict[str, Any], enterprise_id: int, facility_id: int) -> Any:
        """Correct a facility (regulators)."""
        return svc.update_facility(
            db_session(), current_actor(), enterprise_id, facility_id, changes=data
        )


@catalogues.route("/sectors")
class Sectors(MethodView):
    @catalogues.response(200, SectorSchema(many=True))
    def get(self) -> Any:
        """The sector catalogue (public)."""
        return svc.list_sectors(db_session())

    @catalogues.arguments(CatalogueEntrySchema)
    @catalogues.response(201, SectorSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a sector (regulators)."""
        return svc.add_sector(db_session(), current_actor(), **data)


@catalogues.route("/districts")
class Districts(MethodView):
    @catalogues.response(200, CatalogueEntrySchema(many=True))
    def get(self) -> Any:
        """The 16 districts of Beijing and the Economic-Technological Development Area."""
        return svc.list_districts(db_session())


@imports.route("/enterprises")
class EnterpriseImport(MethodView):
    @imports.arguments(ImportFilesSchema, location="files")
    @imports.response(201, ImportResultSchema)
    def post(self, files: dict[str, Any]) -> Any:
        """Import enterprises (and optionally facilities) from CSV or XLSX, all or nothing.

        ``file`` holds enterprises (an XLSX may also carry a ``facilities`` sheet);
        ``facilities`` may be a second CSV. Every bad row is reported at once, as
        ``#/enterprises/rows/<row>/<column>`` (or ``#/facilities/…``) pointers with
        spreadsheet row numbers.
        """
        actor = current_actor()
        batch = importing.read_upload(files["file"], files.get("facilities"))
        return bulk.import_enterprises(db_session(), actor, batch=batch)


def init_app(app: Flask, api: Api) -> None:
    for blueprint in (blp, catalogues, imports):
        api.register_blueprint(blueprint)
