-- Argo CD health of a Treatment (modelhospital.io/v1alpha1).
-- Healthy once the verdict is Healed, and only then; Degraded when it failed or ended
-- NotHealed, Degraded (cured but skills lost) or Inconclusive (too little evidence to
-- tell); Suspended while spec.suspend holds it; Degraded while the spec waits on its
-- author (refused by the tenancy policy, or its patient's spec is invalid); Progressing
-- while stages run.
local hs = {}

local function condition(status, kind)
  if status == nil or status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local status = obj.status
local failed = condition(status, "Failed")
if status ~= nil and (status.verdict == "Failed" or status.stage == "failed" or (failed ~= nil and failed.status == "True")) then
  hs.status = "Degraded"
  if failed ~= nil and failed.message ~= nil and failed.message ~= "" then
    hs.message = failed.message
  elseif status.message ~= nil then
    hs.message = status.message
  else
    hs.message = "The treatment failed"
  end
  return hs
end

local ready = condition(status, "Ready")
if ready ~= nil and ready.status == "False" and (ready.reason == "PolicyRefused" or ready.reason == "PatientInvalid"
    or ready.reason == "PatientServed" or ready.reason == "LauncherUnavailable" or ready.reason == "ClaimNotShared") then
  hs.status = "Degraded"
  hs.message = ready.message or ready.reason
  return hs
end

local finished = status ~= nil and status.verdict ~= nil and status.stage == "done"
local suspended = condition(status, "Suspended")
if not finished and (obj.spec.suspend == true or (suspended ~= nil and suspended.status == "True")) then
  hs.status = "Suspended"
  hs.message = "Suspended before the next stage"
  return hs
end

if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to admit the treatment"
  return hs
end

local generation = obj.metadata.generation
if generation ~= nil and status.observedGeneration ~= nil and status.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "The operator has not yet seen the latest spec"
  return hs
end

if finished then
  local summary = "Verdict " .. status.verdict
  if status.severityBefore ~= nil and status.severityAfter ~= nil then
    summary = summary .. ": " .. status.severityBefore .. " -> " .. status.severityAfter
  end
  if status.skillsSummary ~= nil then
    summary = summary .. ", skills " .. status.skillsSummary
  end
  if status.verdict == "Healed" then
    hs.status = "Healthy"
  else
    hs.status = "Degraded"
  end
  hs.message = summary
  return hs
end

hs.status = "Progressing"
local stage = status.stage or "pending"
local message = "Stage " .. stage
if status.attempt ~= nil then
  message = message .. " (attempt " .. status.attempt .. ")"
end
if status.progress ~= nil and status.progress.done ~= nil and status.progress.total ~= nil then
  message = message .. ": " .. status.progress.done .. "/" .. status.progress.total
end
hs.message = message
return hs
